import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, buildApp } from '../../src/app.js'
import type { Database } from '../../src/db/database.js'
import { MIGRATIONS_DIR } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'
import { JournalDecryptionError } from '../../src/modules/journal/journal-crypto.js'
import { CONFLICT_FIELDS, JOURNAL_FIELDS, JOURNAL_TEXT_FIELDS } from '../../src/modules/journal/journal-fields.js'
import { loadJournalKeys } from '../../src/modules/journal/journal-keys.js'
import { rotateJournalKeys } from '../../src/modules/journal/journal-rotation.js'
import type { JournalEntry } from '../../src/modules/journal/journal-schemas.js'
import { capturingLogger } from '../helpers/app.js'
import { registerUser, type TestUser } from '../helpers/auth.js'
import { type ScratchDatabase, scratchDatabase, sharedDatabase, TEST_JOURNAL_KEY, testConfig } from '../helpers/database.js'
import { writeEntry } from '../helpers/journal.js'

const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`
/** The encrypted fields, from the journal's field table: a field added there is covered here without editing this file. */
const ENCRYPTED = JOURNAL_FIELDS.filter((field) => field.encrypted)
const inConflict = (name: string) => CONFLICT_FIELDS.some((field) => field.name === name)
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
const TEXT_COLUMNS = ENCRYPTED.map((field) => snakeCase(field.column))

/** An entry whose every encrypted field holds `<field> <marker>`, the conflict part with a response and intensity too. */
function entryWithMarker(marker: string) {
  const text = (fields: typeof ENCRYPTED) => Object.fromEntries(fields.map((field) => [field.name, `${field.name} ${marker}`]))
  return {
    ...text(ENCRYPTED.filter((field) => !inConflict(field.name))),
    conflict: { ...text(ENCRYPTED.filter((field) => inConflict(field.name))), response: 'paused', intensity: 4 },
  }
}

/** Every way a value could show up in a row's raw bytes: as text, as UTF-16, and as bytea's escapes. */
function rawForms(value: unknown): string[] {
  if (value instanceof Uint8Array) {
    const buffer = Buffer.from(value)
    return [buffer.toString('utf8'), buffer.toString('latin1'), buffer.toString('utf16le'), buffer.toString('hex'), buffer.toString('base64')]
  }
  return [JSON.stringify(value) ?? '']
}

describe('journal encryption at rest', () => {
  let app: App
  let user: TestUser
  beforeAll(async () => {
    app = await buildApp(testConfig(), { db: await sharedDatabase() })
    user = await registerUser(app)
  })
  afterAll(async () => {
    await app.close()
  })

  const getEntry = (target: App, id: string, who: TestUser = user) => target.inject({ method: 'GET', url: `/v1/journal/entries/${id}`, headers: who.headers })
  const raw = async (id: string) => (await app.db.query<Record<string, unknown>>(`select * from journal_entries where id = $1`, [id]))[0] ?? {}

  it('stores no plaintext: every encrypted field is ciphertext, and the whole row holds none of it', async () => {
    const marker = `plain${randomUUID().slice(0, 8)}`
    const entry = await writeEntry(app, user, entryWithMarker(marker))
    expect(JOURNAL_TEXT_FIELDS).toEqual(ENCRYPTED.map((field) => field.name))
    expect(TEXT_COLUMNS).toEqual(['title_enc', 'body_enc', 'trigger_enc', 'response_note_enc', 'outcome_enc'])
    const row = await raw(entry.id)
    expect(row.key_id).toBe(TEST_JOURNAL_KEY.split(':')[0])
    for (const column of TEXT_COLUMNS) {
      const value = row[column]
      expect(value, column).toBeInstanceOf(Uint8Array)
      // version byte, 12-byte nonce, ciphertext, 16-byte tag
      expect((value as Uint8Array)[0], column).toBe(1)
    }
    expect((row.body_enc as Uint8Array).length).toBe(1 + 12 + Buffer.byteLength(`body ${marker}`) + 16)
    for (const [column, value] of Object.entries(row)) {
      for (const form of rawForms(value)) {
        expect(form, column).not.toContain(marker)
        expect(form, column).not.toContain(Buffer.from(marker).toString('hex'))
      }
    }
    // And as Postgres itself prints the row.
    const [printed] = await app.db.query<{ row: string }>(`select t::text as row from journal_entries t where id = $1`, [entry.id])
    expect(printed?.row).not.toContain(marker)
    expect(printed?.row).not.toContain(Buffer.from(marker).toString('hex'))
    // The API still reads every field.
    const read = (await getEntry(app, entry.id)).json<JournalEntry>()
    for (const field of ENCRYPTED) {
      const value = inConflict(field.name) ? read.conflict?.[field.name as keyof NonNullable<JournalEntry['conflict']>] : read[field.name as keyof JournalEntry]
      expect(value, field.name).toBe(`${field.name} ${marker}`)
    }
  })

  it('never logs an encrypted or private field, at any depth, nor a whole entry', async () => {
    const marker = `logged${randomUUID().slice(0, 8)}`
    const entry = await writeEntry(app, user, { ...entryWithMarker(marker), tags: [marker] })
    const probe = capturingLogger('trace')
    const privateFields = JOURNAL_FIELDS.filter((field) => field.encrypted || 'private' in field).map((field) => field.name)
    expect(privateFields).toEqual(expect.arrayContaining([...JOURNAL_TEXT_FIELDS, 'tags']))
    for (const name of privateFields) {
      probe.logger.info({ [name]: marker }, 'top level')
      probe.logger.info({ entry: { [name]: marker } }, 'one level down')
      probe.logger.info({ request: { body: { [name]: marker } } }, 'two levels down')
    }
    probe.logger.info({ entry }, 'a whole entry')
    probe.logger.info({ data: [entry] }, 'a page of entries')
    expect(probe.text()).not.toContain(marker)
    expect(probe.text()).toContain('[redacted]')
    // What is not private still shows, so the redaction is targeted, not everything.
    probe.logger.info({ entry: { id: entry.id, mood: entry.mood } }, 'ids and mood')
    expect(probe.text()).toContain(entry.id)
  })

  it('seals every value with a fresh nonce: the same text twice gives different ciphertexts', async () => {
    const a = await writeEntry(app, user, { body: 'Same words.', title: 'Same words.' })
    const b = await writeEntry(app, user, { body: 'Same words.' })
    const [rowA, rowB] = [await raw(a.id), await raw(b.id)]
    const nonce = (value: unknown) => Buffer.from(value as Uint8Array).subarray(1, 13).toString('hex')
    expect(nonce(rowA.body_enc)).not.toBe(nonce(rowB.body_enc))
    expect(nonce(rowA.body_enc)).not.toBe(nonce(rowA.title_enc))
    expect(Buffer.from(rowA.body_enc as Uint8Array).equals(Buffer.from(rowB.body_enc as Uint8Array))).toBe(false)
  })

  describe('refuses ciphertext that was tampered with or moved, loudly', () => {
    let logged: App
    let capture: ReturnType<typeof capturingLogger>
    beforeAll(async () => {
      capture = capturingLogger('error')
      logged = await buildApp(testConfig({ LOG_LEVEL: 'error' }), { db: await sharedDatabase(), logger: capture.logger })
    })
    afterAll(async () => {
      await logged.close()
    })

    /**
     * The entry is served marked unreadable, with nothing of its content (a bad row no longer takes the
     * journal with it), and the log says which row and why.
     */
    async function expectRefused(id: string, reason: RegExp, who: TestUser = user) {
      const res = await getEntry(logged, id, who)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ id, unreadable: true })
      expect(['journal_text_not_authentic', 'journal_key_unknown']).toContain(res.json().unreadableCode)
      const lines = capture.lines().filter((line) => line.entryId === id)
      expect(JSON.stringify(lines)).toMatch(new RegExp(`journal entry ${id}`))
      expect(JSON.stringify(lines)).toMatch(reason)
    }

    it('refuses a flipped bit, rather than returning garbled text', async () => {
      const entry = await writeEntry(app, user, { body: 'Do not garble me.' })
      await app.db.query(`update journal_entries set body_enc = set_byte(body_enc, 14, get_byte(body_enc, 14) # 1) where id = $1`, [entry.id])
      await expectRefused(entry.id, /failed authentication/)
      // The list and the export mark it too, rather than skip or garble it, and serve the rest.
      for (const url of ['/v1/journal/entries', '/v1/me/export']) {
        const res = await logged.inject({ method: 'GET', url, headers: user.headers })
        expect(res.statusCode).toBe(200)
        expect(res.body).toContain(`"id":"${entry.id}"`)
        expect(res.body).toContain('"unreadable":true')
        expect(res.body).not.toContain('garble')
      }
      await app.db.query(`delete from journal_entries where id = $1`, [entry.id])
    })

    it('refuses a truncated value, a changed tag and an unknown format', async () => {
      for (const sql of [
        `update journal_entries set title_enc = substring(title_enc from 1 for length(title_enc) - 1) where id = $1`,
        `update journal_entries set title_enc = set_byte(title_enc, length(title_enc) - 1, get_byte(title_enc, length(title_enc) - 1) # 128) where id = $1`,
        `update journal_entries set title_enc = set_byte(title_enc, 0, 2) where id = $1`,
      ]) {
        const entry = await writeEntry(app, user, { title: 'A title' })
        await app.db.query(sql, [entry.id])
        await expectRefused(entry.id, /failed authentication|known format/)
        await app.db.query(`delete from journal_entries where id = $1`, [entry.id])
      }
    })

    it('refuses a ciphertext moved to another field, another row, or another user’s row', async () => {
      const other = await registerUser(app)
      const source = await writeEntry(app, user, { body: 'Moved body.', title: 'Moved title.' })
      const sameUser = await writeEntry(app, user, { body: 'Target.' })
      const otherUser = await writeEntry(app, other, { body: 'Target of another user.' })

      await app.db.query(`update journal_entries set body_enc = title_enc where id = $1`, [source.id])
      await expectRefused(source.id, /field body failed authentication/)

      await app.db.query(`update journal_entries set body_enc = (select body_enc from journal_entries where id = $2) where id = $1`, [sameUser.id, source.id])
      await expectRefused(sameUser.id, /failed authentication/)

      // Even the whole row's content, key id and all, moved under another user's row id.
      await app.db.query(
        `update journal_entries t set body_enc = s.body_enc, title_enc = s.title_enc, key_id = s.key_id from journal_entries s where s.id = $2 and t.id = $1`,
        [otherUser.id, sameUser.id],
      )
      await expectRefused(otherUser.id, /failed authentication/, other)
      await app.db.query(`delete from journal_entries where id = any($1::uuid[])`, [[source.id, sameUser.id, otherUser.id]])
    })
  })

  describe('keys', () => {
    it('fails loudly with the wrong key material under the right id, and with a key id it does not have', async () => {
      const entry = await writeEntry(app, user, { body: 'Sealed with the test key.' })
      const keyId = TEST_JOURNAL_KEY.split(':')[0] ?? ''
      for (const [keys, reason] of [
        [newKey(keyId), /failed authentication/],
        [newKey('some-other-key'), new RegExp(`journal key "${keyId}", which is not configured`)],
      ] as const) {
        const capture = capturingLogger('error')
        const wrong = await buildApp(testConfig({ JOURNAL_ENCRYPTION_KEYS: keys, LOG_LEVEL: 'error' }), { db: app.db, logger: capture.logger })
        try {
          const res = await getEntry(wrong, entry.id)
          expect(res.statusCode).toBe(200)
          expect(res.json()).toMatchObject({ unreadable: true })
          expect(res.body).not.toContain('Sealed with')
          const messages = capture.lines().map((line) => (typeof line.reason === 'string' ? line.reason : ''))
          expect(messages.join('\n')).toMatch(reason)
        } finally {
          await wrong.close()
        }
      }
    })

    it('refuses malformed keys at start, and Postgres without keys', () => {
      expect(() => loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }))).toThrow(/is 5 bytes; AES-256 needs 32/)
      expect(() => loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: 'no-colon' }))).toThrow(/id:base64key/)
      expect(() => loadJournalKeys({ ...testConfig(), JOURNAL_ENCRYPTION_KEYS: undefined, DATABASE_URL: 'postgresql://localhost/x' })).toThrow(
        /JOURNAL_ENCRYPTION_KEYS is required with DATABASE_URL/,
      )
    })
  })

  describe('key rotation', () => {
    // Its own database: rotation touches every row, and other files' rows live in the shared one.
    let scratch: ScratchDatabase
    let db: Database
    const keyA = newKey('key-a')
    const keyB = newKey('key-b')
    const keyMid = newKey('key-mid')
    const appWith = (keys: string) => buildApp(testConfig({ JOURNAL_ENCRYPTION_KEYS: keys }), { db })
    beforeAll(async () => {
      scratch = await scratchDatabase()
      db = scratch.db
      await db.withSession((session) => applyMigrations(session, readMigrations(MIGRATIONS_DIR)))
    })
    afterAll(async () => {
      await scratch.destroy()
    })

    it('re-seals old rows with the newest key in resumable batches; old keys read until then, and are not needed after', async () => {
      const before = await appWith(keyA)
      const alice = await registerUser(before)
      const bob = await registerUser(before)
      const written: JournalEntry[] = []
      for (let i = 0; i < 7; i++) {
        written.push(await writeEntry(before, i % 2 === 0 ? alice : bob, { body: `Entry ${i}`, title: i % 3 === 0 ? `Title ${i}` : undefined, conflict: { outcome: `Outcome ${i}` } }))
      }
      await before.close()

      // New key in front: old rows still read, new rows are sealed with it.
      const during = await appWith(`${keyB},${keyA}`)
      expect((await getEntry(during, written[0]!.id, alice)).json()).toEqual(written[0])
      const fresh = await writeEntry(during, alice, { body: 'Written with key B.' })
      const keyIds = async () => (await db.query<{ key_id: string; n: number }>(`select key_id, count(*)::int as n from journal_entries group by key_id order by key_id`)).map((r) => [r.key_id, r.n])
      expect(await keyIds()).toEqual([['key-a', 7], ['key-b', 1]])

      const ring = loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: `${keyB},${keyA}` }))
      const batches: number[] = []
      const partial = await rotateJournalKeys(db.prisma, ring, { batchSize: 3, maxBatches: 1, onBatch: (p) => batches.push(p.rotated) })
      expect(partial).toMatchObject({ batches: 1, rotated: 3, changedMeanwhile: 0, currentKeyId: 'key-b', remaining: { 'key-a': 4 } })
      // Interrupted here; the next run carries on.
      const rest = await rotateJournalKeys(db.prisma, ring, { batchSize: 3, onBatch: (p) => batches.push(p.rotated) })
      expect(rest).toMatchObject({ batches: 2, rotated: 4, changedMeanwhile: 0, remaining: {} })
      expect(batches).toEqual([3, 3, 4])
      expect(await keyIds()).toEqual([['key-b', 8]])
      expect(await rotateJournalKeys(db.prisma, ring)).toMatchObject({ batches: 0, rotated: 0, remaining: {} })
      await during.close()

      // Key A is gone; everything reads, unchanged, `updatedAt` included.
      const after = await appWith(keyB)
      try {
        for (const entry of written) {
          const owner = written.indexOf(entry) % 2 === 0 ? alice : bob
          expect((await getEntry(after, entry.id, owner)).json()).toEqual(entry)
        }
        expect((await getEntry(after, fresh.id, alice)).json()).toEqual(fresh)
      } finally {
        await after.close()
      }
    })

    it('never overwrites an edit made between its read and its write', async () => {
      const writer = await appWith(keyB)
      const dana = await registerUser(writer)
      const entry = await writeEntry(writer, dana, { body: 'Before the edit.' })
      await writer.close()

      const editor = await appWith(`${keyMid},${keyB}`)
      try {
        // The edit lands after rotation read its batch and before the batch is written.
        let edited = false
        const interleaved = new Proxy(db.prisma, {
          get(target, property, receiver) {
            if (property !== '$transaction') return Reflect.get(target, property, receiver) as unknown
            return async (...args: unknown[]) => {
              if (!edited) {
                edited = true
                const res = await editor.inject({ method: 'PATCH', url: `/v1/journal/entries/${entry.id}`, headers: dana.headers, payload: { body: 'After the edit.' } })
                expect(res.statusCode).toBe(200)
              }
              return Reflect.apply(Reflect.get(target, property) as (...a: unknown[]) => unknown, target, args)
            }
          },
        })
        const ring = loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: `${keyMid},${keyB}` }))
        const result = await rotateJournalKeys(interleaved, ring, { batchSize: 1000 })
        expect(result.changedMeanwhile).toBe(1)
        expect(result.remaining).toEqual({})
        expect((await getEntry(editor, entry.id, dana)).json()).toMatchObject({ body: 'After the edit.' })
      } finally {
        await editor.close()
      }
    })

    it('stops at a row it cannot open, naming it, with the batches before it committed', async () => {
      const keyC = newKey('key-c')
      const writer = await appWith(keyB)
      const carol = await registerUser(writer)
      const entries: JournalEntry[] = []
      for (let i = 0; i < 4; i++) entries.push(await writeEntry(writer, carol, { body: `Carol ${i}` }))
      await writer.close()
      const byId = [...entries].sort((a, b) => (a.id < b.id ? -1 : 1))
      const broken = byId[2]!
      await db.query(`update journal_entries set body_enc = set_byte(body_enc, 20, get_byte(body_enc, 20) # 1) where id = $1`, [broken.id])

      const ring = loadJournalKeys(testConfig({ JOURNAL_ENCRYPTION_KEYS: `${keyC},${keyMid},${keyB}` }))
      const error = await rotateJournalKeys(db.prisma, ring, { batchSize: 1 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(JournalDecryptionError)
      expect(String(error)).toContain(broken.id)
      // Rows go in id order, one per batch here: every row before the broken one is done, none after.
      const rows = await db.query<{ id: string; key_id: string }>(`select id::text as id, key_id from journal_entries order by id`)
      const at = rows.findIndex((row) => row.id === broken.id)
      expect(at).toBeGreaterThanOrEqual(0)
      expect(rows.slice(0, at).every((row) => row.key_id === 'key-c')).toBe(true)
      expect(rows.slice(at).every((row) => row.key_id !== 'key-c')).toBe(true)
    })
  })
})
