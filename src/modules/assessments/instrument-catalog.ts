import type { FastifyBaseLogger } from 'fastify'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { contentHash, type InstrumentDefinition, InstrumentDefinitionSchema, instrumentProblems } from './instrument-schema.js'

/**
 * The instruments on offer, backed by the database. The data files (instruments/*.ts) are the
 * source of new versions; on first use the catalog inserts any version the database lacks
 * (`ON CONFLICT DO NOTHING`, so instances starting together agree) and from then on serves what
 * the database holds. The database keeps every version ever offered, so a result's version stays
 * readable after its definition leaves the code. Nothing runs at start-up: building the app stays
 * query-free, and the first request pays one round trip.
 *
 * If a released version was edited in place (same id and version, other content), the stored
 * definition wins — old results were scored with it — and the mismatch is logged as an error:
 * release the change as a new version.
 */

export type Catalog = ReturnType<typeof createInstrumentCatalog>

/** Parses and checks a definition; a broken one is a programming error, reported by id. */
export function checkedDefinition(raw: unknown): InstrumentDefinition {
  const parsed = InstrumentDefinitionSchema.safeParse(raw)
  const label = typeof raw === 'object' && raw !== null && 'id' in raw ? String(raw.id) : 'instrument'
  if (!parsed.success) throw new Error(`${label} is not a valid instrument definition: ${parsed.error.message}`)
  const problems = instrumentProblems(parsed.data)
  if (problems.length > 0) throw new Error(`${label}@${parsed.data.version} is inconsistent: ${problems.join('; ')}`)
  return parsed.data
}

export function createInstrumentCatalog({
  prisma,
  definitions,
  log,
}: {
  prisma: Pick<PrismaClient, 'instrumentVersion'>
  definitions: readonly InstrumentDefinition[]
  log: FastifyBaseLogger
}) {
  // Fail at registration, not at the first request, when a data file is wrong.
  const offered = definitions.map(checkedDefinition)
  const key = (id: string, version: number) => `${id}@${version}`
  const versions = new Map<string, InstrumentDefinition>()
  let loaded: Promise<Map<string, InstrumentDefinition>> | undefined

  async function load(): Promise<Map<string, InstrumentDefinition>> {
    await prisma.instrumentVersion.createMany({
      data: offered.map((definition) => ({
        instrumentId: definition.id,
        version: definition.version,
        definition: definition,
        contentHash: contentHash(definition),
      })),
      skipDuplicates: true,
    })
    const stored = await prisma.instrumentVersion.findMany({
      where: { OR: offered.map((definition) => ({ instrumentId: definition.id, version: definition.version })) },
    })
    for (const definition of offered) {
      const row = stored.find((candidate) => candidate.instrumentId === definition.id && candidate.version === definition.version)
      if (!row) throw new Error(`instrument ${key(definition.id, definition.version)} was not stored`)
      if (row.contentHash !== contentHash(definition)) {
        log.error(
          { instrumentId: definition.id, version: definition.version },
          'this instrument version differs from the one already released; serving the released one. Publish the change as a new version.',
        )
      }
      versions.set(key(row.instrumentId, row.version), checkedDefinition(row.definition))
    }
    const current = new Map<string, InstrumentDefinition>()
    for (const definition of offered) {
      const existing = current.get(definition.id)
      if (!existing || existing.version < definition.version) {
        const released = versions.get(key(definition.id, definition.version))
        if (released) current.set(definition.id, released)
      }
    }
    return current
  }

  /** The current version of each instrument on offer, loading the catalog on first use. */
  async function currentVersions(): Promise<Map<string, InstrumentDefinition>> {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined // a failed load (e.g. the database was down) is retried by the next request
      throw error
    })
    return loaded
  }

  return {
    /** Every instrument on offer, current version, ordered by id. */
    async list(): Promise<InstrumentDefinition[]> {
      return [...(await currentVersions()).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },

    /** The current version of an instrument on offer; undefined when there is none. */
    async current(id: string): Promise<InstrumentDefinition | undefined> {
      return (await currentVersions()).get(id)
    },

    /**
     * A specific version, including ones no longer on offer (for old results). Versions never
     * change, so each is read from the database once.
     */
    async version(id: string, version: number): Promise<InstrumentDefinition | undefined> {
      await currentVersions()
      const cached = versions.get(key(id, version))
      if (cached) return cached
      const row = await prisma.instrumentVersion.findUnique({ where: { instrumentId_version: { instrumentId: id, version } } })
      if (!row) return undefined
      const definition = checkedDefinition(row.definition)
      versions.set(key(id, version), definition)
      return definition
    },

    /** The newest stored version of an instrument, whether or not it is still on offer. */
    async latestStored(id: string): Promise<InstrumentDefinition | undefined> {
      const current = await this.current(id)
      if (current) return current
      const row = await prisma.instrumentVersion.findFirst({ where: { instrumentId: id }, orderBy: { version: 'desc' }, select: { version: true } })
      return row ? this.version(id, row.version) : undefined
    },
  }
}
