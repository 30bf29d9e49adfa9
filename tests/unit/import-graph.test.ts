import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The shape of src/: features (src/modules/<name>/) depend on lib/, plugins/ and db/, never on each
 * other, with one documented exception; lib/ and plugins/ never reach into a feature; and no file
 * imports itself back through a chain of others. A new edge fails here, naming it.
 */

const SRC = fileURLToPath(new URL('../../src', import.meta.url))
/** Feature → feature edges that are part of the design (README: assessments link to directory searches). */
const ALLOWED_FEATURE_EDGES = new Set(['assessments → directory'])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : []
  })
}

/** Relative imports of a file (static, dynamic and `export … from`), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((match) => match[1] ?? '')
  return specifiers.map((specifier) => path.relative(SRC, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts'))
}

const graph = new Map(sourceFiles(SRC).map((file) => [path.relative(SRC, file), importsOf(file)]))
const featureOf = (file: string) => /^modules\/([^/]+)\//.exec(file)?.[1]

describe('the import graph of src/', () => {
  it('reads every file and finds the imports', () => {
    expect(graph.size).toBeGreaterThan(50)
    expect(graph.get('app.ts')).toContain('plugins/auth-guard.ts')
  })

  it('has no edge from one feature module into another, except the documented one', () => {
    const edges = new Set<string>()
    for (const [file, imports] of graph) {
      const from = featureOf(file)
      for (const target of imports) {
        const to = featureOf(target)
        if (from && to && from !== to) edges.add(`${from} → ${to}`)
      }
    }
    expect([...edges].filter((edge) => !ALLOWED_FEATURE_EDGES.has(edge))).toEqual([])
  })

  it('keeps lib/, plugins/ and db/ free of feature imports', () => {
    const reaching = [...graph].flatMap(([file, imports]) =>
      /^(lib|plugins|db)\//.test(file) ? imports.filter((target) => featureOf(target) !== undefined).map((target) => `${file} → ${target}`) : [],
    )
    expect(reaching).toEqual([])
  })

  it('loads PGlite only on demand, so a Postgres deployment never does', () => {
    const pglite = /from\s+['"](@electric-sql\/pglite|pglite-prisma-adapter)[^'"]*['"]/
    const staticImports = [...graph.keys()].filter((file) =>
      readFileSync(path.join(SRC, file), 'utf8')
        .split('\n')
        .some((line) => pglite.test(line) && !/^\s*import\s+type\b/.test(line)),
    )
    expect(staticImports).toEqual(['db/pglite.ts'])
    const importers = [...graph].filter(([, imports]) => imports.includes('db/pglite.ts')).map(([file]) => file)
    expect(importers).toEqual(['db/database.ts'])
    expect(readFileSync(path.join(SRC, 'db/database.ts'), 'utf8')).toMatch(/await import\('\.\/pglite\.js'\)/)
  })

  it('has no import cycle', () => {
    const cycles: string[] = []
    const state = new Map<string, 'visiting' | 'done'>()
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '))
        return
      }
      state.set(file, 'visiting')
      for (const target of graph.get(file) ?? []) visit(target, [...trail, file])
      state.set(file, 'done')
    }
    for (const file of graph.keys()) visit(file, [])
    expect(cycles).toEqual([])
  })
})
