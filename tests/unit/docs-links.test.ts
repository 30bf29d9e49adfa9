import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Every relative link in README.md, CHANGELOG.md and docs/*.md points at a file that exists, and every
 * `#anchor` at a heading (GitHub's slugs) or an `<a id>` of its target. Guides colleagues are writing on
 * their own branches may be linked before they land here.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PENDING = new Set(['docs/reliability.md', 'docs/directory-sync.md', 'docs/scaling.md'])

const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)]

/** The text outside fenced code blocks. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '')

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')

function anchorsOf(file: string): Set<string> {
  const text = prose(readFileSync(path.join(ROOT, file), 'utf8'))
  const headings = [...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((match) => slug(match[1] ?? ''))
  const explicit = [...text.matchAll(/<a id="([^"]+)"/g)].map((match) => match[1] ?? '')
  return new Set([...headings, ...explicit])
}

describe('documentation links', () => {
  it.each(pages)('%s links only to files and anchors that exist', (page) => {
    const text = prose(readFileSync(path.join(ROOT, page), 'utf8'))
    const broken: string[] = []
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? ''
      if (/^[a-z]+:/i.test(target)) continue
      const [file = '', anchor] = target.split('#')
      const resolved = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file))
      if (PENDING.has(resolved)) continue
      if (!existsSync(path.join(ROOT, resolved))) {
        broken.push(`${target} (no ${resolved})`)
        continue
      }
      if (anchor && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) broken.push(`${target} (no #${anchor} in ${resolved})`)
    }
    expect(broken).toEqual([])
  })
})
