import { z } from 'zod'

export const HealthSchema = z
  .object({
    status: z.literal('ok').describe('Always `ok`: the process answers.'),
    uptimeSeconds: z.number().describe('Seconds since the process started.'),
  })
  .meta({ id: 'Health', description: 'The process is up.', example: { status: 'ok', uptimeSeconds: 12.5 } })

export const ReadinessSchema = z
  .object({
    status: z.literal('ready').describe('`ready`; otherwise the answer is a 503 problem.'),
    database: z.enum(['postgres', 'embedded']).describe('Which storage backend this instance uses.'),
    migrations: z.object({ applied: z.number().int().describe('Migrations applied, all of those this version ships.') }),
    directoryIndex: z
      .object({
        state: z
          .enum(['building', 'ready', 'stale', 'off'])
          .describe('`ready`: searches use it; `building` (first build) and `stale` (catching up with missed changes): searches use SQL alone meanwhile; `off`: turned off or too big.'),
        therapists: z.number().int().describe('Therapists it holds.'),
        megabytes: z.number().describe('Memory it holds.'),
        builtInMs: z.number().int().nullable().describe('How long its last build took.'),
        reason: z.string().optional().describe('Why it is off.'),
      })
      .optional()
      .describe('The in-process directory index (DIRECTORY_INDEX=memory).'),
    changeFeed: z
      .object({
        state: z.enum(['starting', 'up', 'down', 'closed']).describe('`up`: changes made through any instance reach this one’s caches; `down`: caches were reset and are refilled from the database until it is back.'),
        resets: z.number().int().describe('Times the feed was lost (and the caches reset) since start.'),
      })
      .optional()
      .describe('The change feed that keeps this instance’s caches coherent with every other instance’s writes.'),
    replicas: z
      .array(
        z.object({
          name: z.string().describe('`replica-N`, in the order of DATABASE_READ_URLS.'),
          state: z.enum(['starting', 'healthy', 'lagging', 'down']).describe('`healthy`: takes directory reads; `lagging` (over DATABASE_MAX_REPLICA_LAG_MS), `down` and `starting`: reads go to the other replicas or the primary.'),
          lagMs: z.number().int().nullable().describe('Age of the newest primary data it lacks, at the last check (null until known).'),
          checkedAt: z.iso.datetime().nullable().describe('When it was last checked.'),
        }),
      )
      .optional()
      .describe('Read replicas (DATABASE_READ_URLS). A replica that is down or lagging does not make the instance unready: its reads go to the primary.'),
  })
  .meta({
    id: 'Readiness',
    description: 'The instance can serve: its database answers and is migrated.',
    example: { status: 'ready', database: 'embedded', migrations: { applied: 8 }, directoryIndex: { state: 'ready', therapists: 3000, megabytes: 1.2, builtInMs: 640 } },
  })
