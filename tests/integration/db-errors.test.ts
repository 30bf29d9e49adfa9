import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { openPostgres } from '../../src/db/database.js'
import { dbErrorKind, isConnectionError, isRecordNotFound, isUniqueViolation } from '../../src/lib/db-errors.js'
import { sharedDatabase } from '../helpers/database.js'

/** Errors as the backends really raise them: through Prisma, and from raw SQL on the same connection. */
const caught = async (work: () => Promise<unknown>): Promise<unknown> => {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected the work to fail')
}

describe('recognising database errors', () => {
  it('knows a unique violation through Prisma and from raw SQL', async () => {
    const db = await sharedDatabase()
    const email = `twice-${randomUUID()}@example.com`
    await db.prisma.user.create({ data: { email } })
    const viaPrisma = await caught(() => db.prisma.user.create({ data: { email } }))
    const viaSql = await caught(() => db.query('insert into users (id, email, updated_at) values ($1, $2, now())', [randomUUID(), email]))
    for (const error of [viaPrisma, viaSql]) {
      expect(isUniqueViolation(error)).toBe(true)
      expect(isRecordNotFound(error)).toBe(false)
    }
  })

  it('knows a missing record (Prisma P2025)', async () => {
    const db = await sharedDatabase()
    const error = await caught(() => db.prisma.user.update({ where: { id: randomUUID() }, data: { displayName: 'x' } }))
    expect(dbErrorKind(error)).toBe('record_not_found')
  })

  it('knows an unreachable server, and nothing else as a database error', async () => {
    const nowhere = openPostgres('postgresql://postgres@127.0.0.1:1/none', { poolSize: 1 })
    try {
      expect(isConnectionError(await caught(() => nowhere.query('select 1')))).toBe(true)
      expect(isConnectionError(await caught(() => nowhere.prisma.user.count()))).toBe(true)
    } finally {
      await nowhere.close()
    }
    expect(isConnectionError({ code: '57P01' })).toBe(true)
    expect(isConnectionError({ code: '08006' })).toBe(true)
    for (const other of [new Error('boom'), { code: '23503' }, { code: 'FST_ERR_NOT_FOUND' }, null, 'P2002']) expect(dbErrorKind(other)).toBeUndefined()
  })
})
