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

export interface ResolveFailure {
  value: string
}

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
   * @returns the slugs, and the values that matched nothing
   */
  resolveAll(kind: VocabularyKind, values: readonly string[]): { slugs: string[]; unknown: string[] } {
    const slugs: string[] = []
    const unknown: string[] = []
    for (const value of values) {
      const slug = this.resolve(kind, value)
      if (slug === undefined) unknown.push(value)
      else if (!slugs.includes(slug)) slugs.push(slug)
    }
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

/** What a rejected vocabulary value looks like in a 400: the field, the value, and every valid slug. */
export function unknownTermError(field: string, kind: VocabularyKind, unknown: string[], vocabulary: Vocabulary, place: FieldError['in'] = 'query'): BadRequestError {
  const valid = vocabulary.slugs(kind)
  return new BadRequestError(
    'unknown_term',
    `Unknown ${field} ${unknown.map((value) => JSON.stringify(value)).join(', ')}. Valid values (slugs; names and aliases also work): ${valid.join(', ')}.`,
    {
      errors: unknown.map((value) => ({ in: place, field, message: `Unknown ${field} ${JSON.stringify(value)}`, code: 'unknown_term' })),
      validValues: { [field]: valid },
    },
  )
}
