/**
 * Issue 10's targets, judged, and the one markdown table `npm run bench` prints.
 */
import type { LoadResult } from './load.js'
import type { PeerResult } from './peers.js'
import type { PeerKind } from './shapes.js'

/** Issue 10, "Targets": first page with all facets, one client, no cache. */
export const FACETS_P50_MS = 15
export const FACETS_P99_MS = 40
/** Facets at 50 connections: at least this share of the same shape's throughput without facets. */
export const FACETS_SHARE = 0.5
/** Seeding 1,000,000 therapists: at most 10 minutes (scaled linearly for other counts). */
export const SEED_SECONDS_PER_MILLION = 600
/** An in-process structure must not delay readiness beyond this. */
export const READY_SECONDS = 30

/** true: met; false: missed; null: not measured in this run (e.g. --skip-peers). */
export interface Verdict {
  ok: boolean | null
  why: string
}

export interface ShapeRow {
  name: string
  /** The canonical query string, or a description of the requests. */
  query: string
  peerKind: PeerKind
  noFacets: LoadResult
  /** Absent for the profile. */
  facetsSingle?: LoadResult
  facets?: LoadResult
  /** undefined: peers skipped; null: the peer was to run but gave no result. */
  peer: PeerResult | null | undefined
  /** Hits on the canonical first page, response bytes: a shape that finds nothing measures nothing. */
  hits: number | null
}

export interface JudgedRow extends ShapeRow {
  vsPeer: Verdict
  facetsLatency: Verdict
  facetsThroughput: Verdict
}

const errorsIn = (...loads: (LoadResult | undefined)[]) => loads.reduce((sum, load) => sum + (load?.errors ?? 0), 0)

export function judge(row: ShapeRow): JudgedRow {
  const tp = row.noFacets
  let vsPeer: Verdict
  if (row.peer === undefined) vsPeer = { ok: null, why: 'peers skipped' }
  else if (row.peer === null) vsPeer = { ok: false, why: `no result from peer-${row.peerKind}` }
  else if (tp.errors > 0 || row.peer.errors > 0) vsPeer = { ok: false, why: `errors: Therapath ${tp.errors}, peer ${row.peer.errors}` }
  else {
    const faster = tp.reqPerSec >= row.peer.reqPerSec
    const tighter = tp.p99 <= row.peer.p99
    vsPeer = {
      ok: faster && tighter,
      why: [
        faster ? '' : `req/s ${fmtInt(tp.reqPerSec)} < peer ${fmtInt(row.peer.reqPerSec)}`,
        tighter ? '' : `p99 ${fmtMs(tp.p99)} ms > peer ${fmtMs(row.peer.p99)} ms`,
      ]
        .filter(Boolean)
        .join(', '),
    }
  }
  let facetsLatency: Verdict = { ok: null, why: '' }
  let facetsThroughput: Verdict = { ok: null, why: '' }
  if (row.facetsSingle) {
    const single = row.facetsSingle
    const p50ok = single.p50 <= FACETS_P50_MS
    const p99ok = single.p99 <= FACETS_P99_MS
    facetsLatency =
      single.errors > 0
        ? { ok: false, why: `${single.errors} errors` }
        : {
            ok: p50ok && p99ok,
            why: [p50ok ? '' : `p50 ${fmtMs(single.p50)} ms > ${FACETS_P50_MS}`, p99ok ? '' : `p99 ${fmtMs(single.p99)} ms > ${FACETS_P99_MS}`].filter(Boolean).join(', '),
          }
  }
  if (row.facets) {
    const share = row.facets.reqPerSec / tp.reqPerSec
    facetsThroughput =
      errorsIn(row.facets, tp) > 0
        ? { ok: false, why: `errors: with facets ${row.facets.errors}, without ${tp.errors}` }
        : { ok: share >= FACETS_SHARE, why: share >= FACETS_SHARE ? '' : `${fmtPct(share)} of the no-facet req/s < ${fmtPct(FACETS_SHARE)}` }
  }
  return { ...row, vsPeer, facetsLatency, facetsThroughput }
}

export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
export const fmtMs = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–')
export const fmtPct = (share: number) => (Number.isFinite(share) ? `${Math.round(100 * share)} %` : '–')
export const fmtMb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined || !Number.isFinite(bytes) ? '–' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`)
export const mark = (verdict: Verdict) => (verdict.ok === null ? '–' : verdict.ok ? 'PASS' : '**MISS**')

export function table(rows: JudgedRow[]): string {
  const lines = [
    '| shape | req/s | p50 ms | p99 ms | peer req/s | peer p99 ms | Therapath / peer | ≥ peer req/s, ≤ peer p99 | facets 1 client p50 / p99 ms (n) | p50 ≤ 15, p99 ≤ 40 | facets req/s | with / without facets | ≥ 50 % |',
    '|---|---:|---:|---:|---:|---:|---:|:---:|---:|:---:|---:|---:|:---:|',
  ]
  for (const row of rows) {
    const peer = row.peer
    const single = row.facetsSingle
    lines.push(
      [
        `${row.name} \`${row.query}\`${row.hits === 0 ? ' (no hits!)' : ''}`,
        fmtInt(row.noFacets.reqPerSec),
        fmtMs(row.noFacets.p50),
        fmtMs(row.noFacets.p99),
        peer ? `${fmtInt(peer.reqPerSec)} (${peer.kind})` : '–',
        peer ? fmtMs(peer.p99) : '–',
        peer ? `${(row.noFacets.reqPerSec / peer.reqPerSec).toFixed(2)}x` : '–',
        mark(row.vsPeer),
        single ? `${fmtMs(single.p50)} / ${fmtMs(single.p99)} (${single.requests})` : '–',
        mark(row.facetsLatency),
        row.facets ? fmtInt(row.facets.reqPerSec) : '–',
        row.facets ? fmtPct(row.facets.reqPerSec / row.noFacets.reqPerSec) : '–',
        mark(row.facetsThroughput),
      ].join(' | '),
    )
  }
  return lines.map((line) => (line.startsWith('|') ? line : `| ${line} |`)).join('\n')
}

/** Every missed target of the rows, one line each. */
export function misses(rows: JudgedRow[], connections: number): string[] {
  const out: string[] = []
  for (const row of rows) {
    if (row.vsPeer.ok === false) out.push(`${row.name}: throughput vs peer (${row.vsPeer.why})`)
    if (row.facetsLatency.ok === false) out.push(`${row.name}: facets, one client (${row.facetsLatency.why})`)
    if (row.facetsThroughput.ok === false) out.push(`${row.name}: facets at ${connections} connections (${row.facetsThroughput.why})`)
  }
  return out
}
