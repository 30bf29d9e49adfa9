import { createHash } from 'node:crypto'

/** SHA-256 of a string (as UTF-8) or bytes. */
export const sha256 = (content: string | Buffer): Buffer => createHash('sha256').update(content).digest()

/** SHA-256 as lowercase hex: migration checksums (as Prisma stores them), refresh-token and app-secret hashes. */
export const sha256Hex = (content: string | Buffer): string => sha256(content).toString('hex')
