import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { Config } from '../config.js'
import { CLIENT_SCOPES, SCOPES } from '../lib/scopes.js'
import { decorateDocument } from './openapi-headers.js'

export const API_VERSION = '1.0.0'

/** OpenAPI tags, in the order the docs show them. */
export const TAGS = [
  { name: 'auth', description: 'Tokens: end-user sign-up and sessions, app tokens (OAuth 2.0 client credentials), and our public keys.' },
  { name: 'account', description: "The signed-in user's account: profile, export of everything they own, deletion." },
  {
    name: 'assessments',
    description:
      'Self-assessments: instruments (the article’s readiness checklist and red flags, PHQ-9, GAD-7) and the user’s results, scored by the server, ' +
      'with a safety block on every result, recommendations that link to directory searches, progress over time, and FHIR R4 views.',
  },
  {
    name: 'journal',
    description:
      'A private journal: entries with mood, emotions, tags and a structured conflict part (trigger, response, outcome, intensity), encrypted at rest; ' +
      'and insights over time: mood, emotions, how conflict responses shift, writing streaks.',
  },
  { name: 'operations', description: 'Health, readiness, metrics and this document.' },
  {
    name: 'directory',
    description:
      'Find a therapist by approach (CBT, psychodynamic, attachment-based, …), issue, place and practicalities, with explainable hits and facet counts; ' +
      'curators add, correct and bulk-import listings.',
  },
  {
    name: 'webhooks',
    description:
      'Directory sync by push: apps register https endpoints that receive every therapist change, signed per Standard Webhooks, at least once and in order per therapist. ' +
      'The payloads are under `webhooks` in this document; see also the pull feed, GET /v1/therapists/changes.',
  },
]

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>

/** The component names a value refers to (`$ref: '#/components/schemas/X'`), anywhere inside it. */
const refsIn = (value: unknown): string[] => [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1] ?? '')

/**
 * The Zod transform registers an input (`XInput`) and an output (`X`) variant of every schema with an
 * id; keep only those some operation (or another kept schema) refers to, so the document lists what
 * exists, sorted by name: the registry's order is the order modules happened to load in, which differs
 * between the OpenAPI script and a test run, and the committed document must not depend on it.
 */
function pruneUnusedSchemas(generated: OpenApiDocument): OpenApiDocument {
  const { components } = generated as { components?: { schemas?: Record<string, unknown> } }
  const schemas = components?.schemas ?? {}
  const used = new Set<string>()
  const frontier = refsIn({ ...generated, components: { ...components, schemas: {} } })
  while (frontier.length > 0) {
    const name = frontier.pop() ?? ''
    if (used.has(name)) continue
    used.add(name)
    frontier.push(...refsIn(schemas[name]))
  }
  const kept = Object.fromEntries([...used].sort().map((name) => [name, schemas[name]]))
  return { ...generated, components: { ...components, schemas: kept } } as OpenApiDocument
}

/**
 * The document as served: its server is the origin the request was sent to (behind TRUST_PROXY_HOPS
 * proxies, the forwarded one), so the interactive docs and generated clients call the instance they
 * came from. The committed file (`npm run openapi`) names it relatively (`/`).
 */
export function withRequestServer(document: Record<string, unknown>, request: FastifyRequest): Record<string, unknown> {
  return { ...document, servers: [{ url: `${request.protocol}://${request.host}`, description: 'The server this document was served by.' }] }
}

/**
 * The OpenAPI document is generated from the routes' Zod schemas, so it cannot drift from what the
 * code validates. Served at /openapi.json and, interactively, at /docs; `npm run openapi` writes it
 * to openapi/openapi.json, and a test fails when that file is stale. `extend` adds what routes cannot
 * describe (the `webhooks` section, from the feature that sends them).
 */
export const swaggerPlugin = fp(
  async (app, { extend = (document) => document }: { config: Config; extend?: <T extends object>(document: T) => T }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Therapath API',
          version: API_VERSION,
          description:
            'Find a therapist by approach, take self-assessments and keep the results, and keep a private journal with progress over time.\n\n' +
            'Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination: pass `page.nextCursor` back as `cursor`.',
          // An SPDX expression for a licence of our own: the API is not open source.
          license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        },
        tags: TAGS,
        // Relative: the server this document is read from. /openapi.json and /docs name it in full (withRequestServer).
        servers: [{ url: '/', description: 'The Therapath server this document came from.' }],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description:
                'A user access token from /v1/auth/register, /login or /refresh; an app token from /v1/oauth/token; or, where configured, ' +
                "a user token from the integrator's own identity provider.",
            },
            clientCredentials: {
              type: 'oauth2',
              description: 'Integrator apps: OAuth 2.0 client credentials.',
              flows: {
                clientCredentials: {
                  tokenUrl: '/v1/oauth/token',
                  scopes: Object.fromEntries(CLIENT_SCOPES.map((scope) => [scope, SCOPES[scope]])),
                },
              },
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (document) => extend(decorateDocument(pruneUnusedSchemas(jsonSchemaTransformObject(document)))),
    })
    // "Try it out" calls the server the page came from, whatever host and port that is.
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformSpecificationClone: true,
      transformSpecification: (document, request) => withRequestServer(document as Record<string, unknown>, request),
    })

    app.get('/openapi.json', { schema: { hide: true } }, async (request, reply) =>
      reply
        .header('cache-control', 'public, max-age=300')
        .header('vary', 'host, x-forwarded-host, x-forwarded-proto')
        .send(withRequestServer(app.swagger() as unknown as Record<string, unknown>, request)),
    )
  },
  { name: 'swagger' },
)
