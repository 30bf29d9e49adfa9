import type { PrismaClient } from '../../generated/prisma/client.js'

/**
 * A user's assessment scores in a period, one series per instrument in time order: what the
 * journal's insights draw beside mood, so apps can show one progress picture. Both ends included,
 * like the journal's own periods.
 */
export function createScoreSeries({ prisma }: { prisma: Pick<PrismaClient, 'assessment'> }) {
  return async (userId: string, from: Date, to: Date) => {
    const rows = await prisma.assessment.findMany({
      where: { userId, takenAt: { gte: from, lte: to } },
      orderBy: [{ takenAt: 'asc' }, { id: 'asc' }],
      select: { instrumentId: true, takenAt: true, score: true },
    })
    const series = new Map<string, { takenAt: string; score: number }[]>()
    for (const row of rows) {
      const points = series.get(row.instrumentId) ?? []
      points.push({ takenAt: row.takenAt.toISOString(), score: row.score })
      series.set(row.instrumentId, points)
    }
    return [...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([instrumentId, points]) => ({ instrumentId, points }))
  }
}
