import type { Database } from '../../db/database.js'
import { BadRequestError, type FieldError } from '../../lib/errors.js'

/**
 * The directory's controlled vocabularies (seeded by the migrations, listed by the API) and the
 * one rule for reading a value someone typed: slugs, names and aliases match in any case and with
 * any punctuation ("Attachment based", "attachment-focused", "CBT", "Emotionally Focused Therapy").
 */

export const VOCABULARY_KINDS = ['modality', 'specialty', 'client_focus', 'format', 'license_type'] as const
export type VocabularyKind = (typeof VOCABULARY_KINDS)[number]

export interface VocabularyTerm {
  kind: VocabularyKind
  slug: string
  name: string
  aliases: string[]
  family: string | null
  description: string
  nuccCode: string | null
  /** Position in its list, from 1; also the term's facet bit (sort_order - 1). */
  sortOrder?: number
}

/** Lowercase words separated by single spaces: "Acceptance & Commitment" → "acceptance and commitment". */
export function normalizeTerm(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
}

/** "Narrative Therapy" and "narrative" are the same request. */
const withoutTherapy = (key: string) => key.replace(/ (psycho)?therapy$/, '')

/** Resolves typed values to slugs for each vocabulary; built once from the terms in the database. */
export class Vocabulary {
  readonly terms: Map<VocabularyKind, VocabularyTerm[]>
  private readonly keys: Map<VocabularyKind, Map<string, string>>

  constructor(terms: VocabularyTerm[]) {
    this.terms = new Map(VOCABULARY_KINDS.map((kind) => [kind, terms.filter((term) => term.kind === kind)]))
    this.keys = new Map()
    for (const kind of VOCABULARY_KINDS) {
      const keys = new Map<string, string>()
      for (const term of this.terms.get(kind) ?? []) {
        for (const text of [term.slug, term.name, ...term.aliases]) {
          const key = normalizeTerm(text)
          // First claim wins; the vocabulary test proves there are no collisions in the seeded data.
          if (!keys.has(key)) keys.set(key, term.slug)
          if (!keys.has(withoutTherapy(key))) keys.set(withoutTherapy(key), term.slug)
        }
      }
      this.keys.set(kind, keys)
    }
  }

  list(kind: VocabularyKind): VocabularyTerm[] {
    return this.terms.get(kind) ?? []
  }

  /** Each term with its facet bit position (sort_order - 1), as the database's trigger assigns them. */
  bits(kind: VocabularyKind): { slug: string; bit: number }[] {
    return this.list(kind).map((term, index) => ({ slug: term.slug, bit: (term.sortOrder ?? index + 1) - 1 }))
  }

  slugs(kind: VocabularyKind): string[] {
    return this.list(kind).map((term) => term.slug)
  }

  term(kind: VocabularyKind, slug: string): VocabularyTerm | undefined {
    return this.list(kind).find((term) => term.slug === slug)
  }

  /** The slug a typed value means, or undefined. */
  resolve(kind: VocabularyKind, value: string): string | undefined {
    const keys = this.keys.get(kind)
    const key = normalizeTerm(value)
    return keys?.get(key) ?? keys?.get(withoutTherapy(key))
  }

  /**
   * Resolves every value, de-duplicated in first-seen order.
   * @returns the slugs, and the values that matched nothing with their positions in `values`
   */
  resolveAll(kind: VocabularyKind, values: readonly string[]): { slugs: string[]; unknown: { index: number; value: string }[] } {
    const slugs: string[] = []
    const unknown: { index: number; value: string }[] = []
    values.forEach((value, index) => {
      const slug = this.resolve(kind, value)
      if (slug === undefined) unknown.push({ index, value })
      else if (!slugs.includes(slug)) slugs.push(slug)
    })
    return { slugs, unknown }
  }

  /** Search text for full-text matching: the names and aliases of the given terms. */
  keywords(kind: VocabularyKind, slugs: readonly string[]): string[] {
    return slugs.flatMap((slug) => {
      const term = this.term(kind, slug)
      return term ? [term.name, ...term.aliases] : []
    })
  }
}

const KIND_LABELS: Record<VocabularyKind, string> = {
  modality: 'modality',
  specialty: 'specialty',
  client_focus: 'client focus',
  format: 'format',
  license_type: 'license type',
}

/**
 * How a 400 lists unknown vocabulary values, wherever they came from (a search's query, a
 * therapist's body, an import line): one error per value, at the field that held it.
 */
export function unknownTermErrors(kind: VocabularyKind, unknown: readonly { field: string; value: string }[], place: FieldError['in']): FieldError[] {
  return unknown.map(({ field, value }) => ({ in: place, field, message: `Unknown ${KIND_LABELS[kind]} ${JSON.stringify(value)}`, code: 'unknown_term' }))
}

/** A search parameter with unknown vocabulary values as a 400: the values, and in `validValues` every valid slug. */
export function unknownTermError(field: string, kind: VocabularyKind, unknown: string[], vocabulary: Vocabulary, place: FieldError['in'] = 'query'): BadRequestError {
  const valid = vocabulary.slugs(kind)
  return new BadRequestError(
    'unknown_term',
    `Unknown ${field} ${unknown.map((value) => JSON.stringify(value)).join(', ')}. Valid values (slugs; names and aliases also work): ${valid.join(', ')}.`,
    {
      errors: unknownTermErrors(kind, unknown.map((value) => ({ field, value })), place),
      validValues: { [field]: valid },
    },
  )
}

/** The vocabularies as the database holds them, in list order. */
export async function loadVocabulary(db: Pick<Database, 'prisma'>): Promise<Vocabulary> {
  const rows = await db.prisma.vocabularyTerm.findMany({ orderBy: [{ kind: 'asc' }, { sortOrder: 'asc' }] })
  return new Vocabulary(rows.map((row) => ({ ...row, kind: row.kind as VocabularyKind })))
}
