import { z } from 'zod'

export const HealthSchema = z
  .object({
    status: z.literal('ok'),
    uptimeSeconds: z.number().describe('Seconds since the process started.'),
  })
  .meta({ id: 'Health' })

export const ReadinessSchema = z
  .object({
    status: z.literal('ready'),
    database: z.enum(['postgres', 'embedded']).describe('Which storage backend this instance uses.'),
    migrations: z.object({ applied: z.number().int().describe('Migrations applied, all of those this version ships.') }),
  })
  .meta({ id: 'Readiness' })
