import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

export const API_VERSION = '1.0.0'

/** OpenAPI tags, in the order the docs show them. */
export const TAGS = [
  { name: 'operations', description: 'Health, readiness, metrics and this document.' },
  {
    name: 'directory',
    description:
      'Find a therapist by approach (CBT, psychodynamic, attachment-based, …), issue, place and practicalities, with explainable hits and facet counts; ' +
      'curators add, correct and bulk-import listings.',
  },
]

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>

/**
 * The Zod transform registers an input and an output variant of every named schema; keep only
 * those some operation (or another kept schema) refers to, so the document lists what exists,
 * in a stable order.
 */
function pruneUnusedSchemas(generated: OpenApiDocument): OpenApiDocument {
  const document = generated as { components?: { schemas?: Record<string, unknown> } }
  const schemas: Record<string, unknown> = { ...(document.components?.schemas ?? {}) }
  const refsIn = (value: unknown): string[] =>
    [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1] ?? '')
  const used = new Set<string>()
  let frontier = refsIn({ ...document, components: { ...document.components, schemas: {} } })
  while (frontier.length > 0) {
    const next: string[] = []
    for (const name of frontier) {
      if (used.has(name)) continue
      used.add(name)
      next.push(...refsIn(schemas[name]))
    }
    frontier = next
  }
  // Sorted by name: the registry's order is import order, which differs between `npm run openapi` and a test run.
  const kept = Object.fromEntries(
    Object.entries(schemas)
      .filter(([name]) => used.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  )
  return { ...document, components: { ...document.components, schemas: kept } } as OpenApiDocument
}

/**
 * The OpenAPI document is generated from the routes' Zod schemas, so it cannot drift from what the
 * code validates. Served at /openapi.json and, interactively, at /docs; `npm run openapi` writes it
 * to openapi/openapi.json, and a test fails when that file is stale.
 */
export const swaggerPlugin = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Therapath API',
          version: API_VERSION,
          description:
            'Find a therapist by approach, take self-assessments and keep the results, and keep a private journal with progress over time.\n\n' +
            'Errors are RFC 9457 `application/problem+json`. Lists use cursor pagination: pass `page.nextCursor` back as `cursor`.',
          license: { name: 'Proprietary' },
        },
        tags: TAGS,
      },
      transform: jsonSchemaTransform,
      transformObject: (document) => pruneUnusedSchemas(jsonSchemaTransformObject(document)),
    })
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

    app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(app.swagger()),
    )
  },
  { name: 'swagger' },
)
