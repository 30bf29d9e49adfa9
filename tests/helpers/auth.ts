import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import type { App } from '../../src/app.js'
import type { TokenPair } from '../../src/modules/auth/auth-schemas.js'
import { type CreatedClient, createApiClient } from '../../src/modules/auth/clients-service.js'
import type { Scope } from '../../src/lib/scopes.js'

export const PASSWORD = 'a long and personal passphrase'

export const uniqueEmail = (label = 'user') => `${label}-${randomUUID()}@example.com`

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export interface TestUser extends TokenPair {
  headers: { authorization: string }
}

/** Registers a fresh user through the API. */
export async function registerUser(app: App, email = uniqueEmail()): Promise<TestUser> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD } })
  expect(res.statusCode, res.body).toBe(201)
  const pair = res.json<TokenPair>()
  return { ...pair, headers: bearer(pair.accessToken) }
}

/** Creates an integrator app directly (as the operator CLI does) and returns its credentials. */
export function createClient(app: App, scopes: Scope[]): Promise<CreatedClient> {
  return createApiClient(app.db.prisma, { name: `test app ${randomUUID()}`, scopes })
}

/** An app access token from the token endpoint. */
export async function clientToken(app: App, scopes: Scope[]): Promise<string> {
  const client = await createClient(app, scopes)
  const res = await app.inject({
    method: 'POST',
    url: '/v1/oauth/token',
    payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
  })
  expect(res.statusCode, res.body).toBe(200)
  return res.json<{ access_token: string }>().access_token
}
