import { timingSafeEqual } from 'node:crypto'
import { sha256 } from './hash.js'

/** Compares two secrets in constant time, whatever their lengths (both are hashed first). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b))
}
