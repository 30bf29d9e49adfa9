import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../src/app.js'
import { bearer, clientToken, registerUser } from '../helpers/auth.js'
import { buildTestApp } from '../helpers/app.js'

/** Who may read and who may curate the directory. */
describe('directory scopes', () => {
  let app: App
  beforeAll(async () => {
    app = await buildTestApp()
  })
  afterAll(async () => {
    await app.close()
  })

  const reads = ['/v1/modalities', '/v1/specialties', '/v1/vocabularies', '/v1/therapists?modality=cbt&limit=1']
  const newTherapist = { name: 'Scope Test', license: { type: 'lcsw', state: 'CA' }, formats: ['telehealth'], acceptingNewClients: true }

  it('refuses anonymous calls with 401', async () => {
    for (const url of reads) expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401)
    expect((await app.inject({ method: 'POST', url: '/v1/therapists', payload: newTherapist })).statusCode).toBe(401)
  })

  it('lets end users and apps with directory:read search, and nobody without directory:write curate', async () => {
    const user = await registerUser(app)
    const reader = bearer(await clientToken(app, ['directory:read']))
    for (const headers of [user.headers, reader]) {
      for (const url of reads) expect((await app.inject({ method: 'GET', url, headers })).statusCode, url).toBe(200)
      const write = await app.inject({ method: 'POST', url: '/v1/therapists', headers, payload: newTherapist })
      expect(write.statusCode).toBe(403)
      expect(write.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'directory:write' })
      const imported = await app.inject({
        method: 'POST',
        url: '/v1/therapists/import',
        headers: { ...headers, 'content-type': 'application/x-ndjson' },
        payload: `${JSON.stringify(newTherapist)}\n`,
      })
      expect(imported.statusCode).toBe(403)
    }
  })

  it('lets a curator app create, change and delete', async () => {
    const curator = bearer(await clientToken(app, ['directory:read', 'directory:write']))
    const created = await app.inject({ method: 'POST', url: '/v1/therapists', headers: curator, payload: newTherapist })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json<{ id: string }>().id
    expect((await app.inject({ method: 'PATCH', url: `/v1/therapists/${id}`, headers: curator, payload: { acceptingNewClients: false } })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: `/v1/therapists/${id}`, headers: curator })).statusCode).toBe(204)
  })
})
