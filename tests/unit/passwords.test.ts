import { describe, expect, it } from 'vitest'
import { hashPassword, passwordProblem, verifyPassword } from '../../src/modules/auth/passwords.js'

describe('password policy', () => {
  it.each([
    ['nine char', 'too_short'],
    ['1234567890', 'too_common'],
    ['Password123', 'too_common'],
    ['zzzzzzzzzzzz', 'too_guessable'],
    ['sam.taylor!!', 'too_guessable'],
    ['my therapath password', 'too_guessable'],
    ['x'.repeat(257), 'too_long'],
  ])('refuses %j as %s', (password, code) => {
    expect(passwordProblem(password, 'sam.taylor@example.com')?.code).toBe(code)
  })

  it.each(['correct horse battery', 'tenletters', 'ÄÖÜ äöü ßẞ!', '私のパスワードです十文字'])('accepts %j without composition rules', (password) => {
    expect(passwordProblem(password, 'sam@example.com')).toBeNull()
  })

  it('counts characters, not bytes', () => {
    expect(passwordProblem('🙂🙂🙂🙂🙂🙂🙂🙂🙂', 'a@b.c')?.code).toBe('too_short')
    expect(passwordProblem('🙂🙂🙂🙂🙂🙂🙂🙂🙂🙃', 'a@b.c')).toBeNull()
  })
})

describe('password hashing', () => {
  it('hashes with Argon2id and verifies, treating composed and decomposed accents alike', async () => {
    const hash = await hashPassword('caf\u00e9 au lait please')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await verifyPassword(hash, 'cafe\u0301 au lait please')).toBe(true)
    expect(await verifyPassword(hash, 'cafe au lait please')).toBe(false)
    expect(await verifyPassword('not a hash', 'x')).toBe(false)
  })
})
