import formBody from '@fastify/formbody'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemResponses } from '../../lib/problem.js'
import { CLIENT_SCOPES } from '../../lib/scopes.js'
import { unstorableTextAt } from '../../plugins/reliability.js'
import { createClientService, OAuthError } from './clients-service.js'
import type { SigningKeys } from './keys.js'
import type { TokenService } from './tokens.js'

const TokenRequestSchema = z
  .object({
    grant_type: z.string().optional().describe('Must be `client_credentials`.'),
    client_id: z.string().max(200).optional().describe('Or send the credentials with HTTP Basic authentication.'),
    client_secret: z.string().max(200).optional(),
    scope: z.string().max(500).optional().describe(`Space-separated subset of the app's scopes (${CLIENT_SCOPES.join(', ')}); omitted → all of them.`),
  })
  .meta({ id: 'TokenRequest', example: { grant_type: 'client_credentials', client_id: 'tpc_Xb3…', client_secret: 'tps_…', scope: 'directory:read' } })

const TokenResponseSchema = z
  .object({
    access_token: z.string().describe('The app access token (a JWT) for `Authorization: Bearer`.'),
    token_type: z.literal('Bearer').describe('Always `Bearer`.'),
    expires_in: z.number().int().describe('Seconds until it expires; then ask for a new one.'),
    scope: z.string().describe('Space-separated scopes the token carries.'),
  })
  .meta({ id: 'TokenResponse', example: { access_token: 'eyJhbGciOiJFZERTQSIs…', token_type: 'Bearer', expires_in: 900, scope: 'directory:read' } })

const OAuthErrorSchema = z
  .object({
    error: z
      .enum(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'])
      .describe('RFC 6749 §5.2 error code (see docs/errors.md).'),
    error_description: z.string().describe('What went wrong, in plain language.'),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 §5.2 error.' })

const JwksSchema = z
  .object({
    keys: z
      .array(
        z.looseObject({
          kty: z.string().describe('Key type (`OKP` for Ed25519, `EC` for P-256).'),
          kid: z.string().describe('Key id: access tokens name their key in their `kid` header.'),
          alg: z.string().describe('`EdDSA` or `ES256`.'),
          use: z.literal('sig').describe('Signature verification.'),
        }),
      )
      .describe('Public keys; several during a rotation.'),
  })
  .meta({
    id: 'JsonWebKeySet',
    description: 'RFC 7517 key set: the public keys that verify Therapath access tokens.',
    example: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k-2026-11', alg: 'EdDSA', use: 'sig' }] },
  })

const oauthError = (description: string) => ({ description, content: { 'application/json': { schema: OAuthErrorSchema } } })

/** Reads `Authorization: Basic` client credentials (RFC 6749 §2.3.1: form-urlencoded, then base64). */
function basicCredentials(request: FastifyRequest): { id: string; secret: string } | null | 'malformed' {
  const header = request.headers.authorization
  if (!header?.toLowerCase().startsWith('basic ')) return null
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return 'malformed'
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) }
  } catch {
    return 'malformed'
  }
}

/** The OAuth 2.0 token endpoint for integrator apps, and the public keys that verify our tokens. */
export const oauthRoutes: FastifyPluginAsyncZod<{ tokens: TokenService; keys: SigningKeys }> = async (app, { tokens, keys }) => {
  // Form bodies only in this scope: RFC 6749 requires them here, nowhere else takes them.
  await app.register(formBody, { bodyLimit: 4096 })
  const clients = createClientService({ prisma: app.db.prisma, tokens })

  app.post(
    '/v1/oauth/token',
    {
      // Its own, stricter limits (app.limitCredentials) instead of the general one; text it cannot
      // store is refused in OAuth's shape below.
      config: { rateLimit: false, ownTextCheck: true },
      schema: {
        tags: ['auth'],
        operationId: 'issueClientToken',
        summary: 'Get an app access token (OAuth 2.0 client credentials)',
        description:
          'RFC 6749 §4.4. Send `application/x-www-form-urlencoded` (as the RFC says) or JSON; authenticate with HTTP Basic or `client_id`/`client_secret` in the body. ' +
          'Errors use OAuth’s `{error, error_description}` shape, not problem+json.',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: TokenRequestSchema,
        response: {
          200: TokenResponseSchema,
          400: oauthError('`invalid_request`, `unsupported_grant_type` or `invalid_scope`.'),
          401: oauthError('`invalid_client`: unknown client, wrong secret or deactivated app.'),
          ...problemResponses(415),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      const basic = basicCredentials(request)
      const claimedId = (typeof basic === 'object' && basic?.id) || request.body.client_id || '-'
      await app.limitCredentials(request, reply, `client:${claimedId}`)
      try {
        if (basic === 'malformed') throw new OAuthError(401, 'invalid_client', 'The Basic authorization header is malformed.')
        if (unstorableTextAt(request.body) !== undefined || (typeof basic === 'object' && basic !== null && unstorableTextAt(basic) !== undefined)) {
          throw new OAuthError(400, 'invalid_request', 'The request contains NUL characters or unpaired UTF-16 surrogates.')
        }
        if (basic && request.body.client_secret !== undefined) {
          throw new OAuthError(400, 'invalid_request', 'Send client credentials either with HTTP Basic or in the body, not both.')
        }
        if (request.body.grant_type === undefined) throw new OAuthError(400, 'invalid_request', 'grant_type is required.')
        if (request.body.grant_type !== 'client_credentials') {
          throw new OAuthError(400, 'unsupported_grant_type', 'Only the client_credentials grant is supported here; end users sign in at /v1/auth/login.')
        }
        const id = basic?.id ?? request.body.client_id
        const secret = basic?.secret ?? request.body.client_secret
        if (!id || !secret) throw new OAuthError(401, 'invalid_client', 'Client credentials are required.')
        return await clients.issueToken(id, secret, request.body.scope)
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error
        if (error.status === 401 && basic) reply.header('www-authenticate', 'Basic realm="therapath"')
        return reply.status(error.status).send({ error: error.error, error_description: error.description })
      }
    },
  )

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        operationId: 'getJwks',
        summary: 'Public keys that verify Therapath access tokens',
        description: 'Public halves only. Tokens name their key in the `kid` header; during a rotation several keys are listed.',
        response: { 200: JwksSchema, ...problemResponses() },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send({ keys: keys.publicJwks as z.infer<typeof JwksSchema>['keys'] }),
  )
}
