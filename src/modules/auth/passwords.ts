import { type Options as Argon2Options, hash, verify } from '@node-rs/argon2'
import { dictionary } from '@zxcvbn-ts/language-common'

/**
 * Passwords: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), about 15 ms
 * per hash here; and a NIST SP 800-63B policy — at least 10 characters, no composition rules,
 * refuse the most common passwords and ones built from the account's own email.
 */

/** `algorithm: 2` is the package's const enum `Algorithm.Argon2id`, which isolated modules cannot import. */
const ARGON2_OPTIONS: Argon2Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 256

/** Common passwords long enough to pass the length rule (zxcvbn's list of the most used). */
const COMMON_PASSWORDS = new Set(
  (dictionary['passwords-common']).filter((p) => [...p].length >= PASSWORD_MIN_LENGTH).map((p) => p.toLowerCase()),
)

export const hashPassword = (password: string): Promise<string> => hash(password.normalize('NFC'), ARGON2_OPTIONS)

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password.normalize('NFC'))
  } catch {
    return false
  }
}

/**
 * A hash of a random password, verified against when an email is unknown, so a login for a
 * missing account costs the same time as one with a wrong password.
 */
let decoyHash: Promise<string> | undefined
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(crypto.randomUUID())
  return decoyHash
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email: string): { code: string; message: string } | null {
  const length = [...password.normalize('NFC')].length
  if (length < PASSWORD_MIN_LENGTH) return { code: 'too_short', message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` }
  if (length > PASSWORD_MAX_LENGTH) return { code: 'too_long', message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` }
  const lower = password.toLowerCase()
  if (COMMON_PASSWORDS.has(lower)) return { code: 'too_common', message: 'This password is one of the most commonly used; choose another.' }
  const localPart = email.split('@')[0] ?? ''
  if (lower === email || (localPart.length >= 4 && lower.includes(localPart)) || lower.includes('therapath')) {
    return { code: 'too_guessable', message: 'Do not build the password from your email address or the service name.' }
  }
  if (/^(.)\1+$/u.test(password)) return { code: 'too_guessable', message: 'Do not repeat a single character.' }
  return null
}
