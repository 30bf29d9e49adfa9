import fp from 'fastify-plugin'

/**
 * Parts of the app beside the database that decide whether an instance should take traffic, and
 * what GET /readyz says of them (e.g. the directory index while it is built). A module registers
 * its part; the readiness route asks each on every probe.
 */
export interface ReadinessPart {
  /** `ready` false answers 503 with `detail`; `report` goes into the readiness body under the part's name. */
  check(): { ready: boolean; detail: string; report: unknown }
}

declare module 'fastify' {
  interface FastifyInstance {
    readinessParts: Map<string, ReadinessPart>
  }
}

export const readinessPlugin = fp(
  async (app) => {
    app.decorate('readinessParts', new Map<string, ReadinessPart>())
  },
  { name: 'readiness' },
)
