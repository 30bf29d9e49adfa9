import type { ZodType } from 'zod'
import type { TrailResource } from './access-trail.js'
import type { Scope } from './scopes.js'

/**
 * The one extension point through which features add a user's data to `GET /v1/me/export`:
 * each registers a section at start-up, and the account module never needs editing. Deletion
 * needs no hook: every table a user owns references `users` with ON DELETE CASCADE, so
 * deleting the user removes it all in one statement (a test checks every such table).
 */
export interface AccountDataSection {
  /** Key of the section in the export document, e.g. `journalEntries`. */
  name: string
  /** Only tokens with this scope see the section, so an app granted less cannot export more; none: every user token. */
  scope?: Scope
  /** Everything of this kind the user owns, readable by the user (decrypted, plain JSON). */
  export(userId: string): Promise<unknown>
  /** What `export` returns, for the export's OpenAPI schema (and its response check). */
  schema: ZodType
  /** One line for the OpenAPI document. */
  description: string
}

/** What the access log may say of an item the trail names, for plain words ("your journal entry of 3 Nov"): never its content. */
export interface TrailLabel {
  /** e.g. the instrument's short title. */
  name?: string
  /** The day the item is about: a journal entry's `occurredAt`, an assessment's `takenAt`. */
  date: Date
}

/** Finds labels for the user's items of one resource type; items no longer there are left out. */
export type TrailLabeler = (userId: string, ids: readonly string[]) => Promise<Map<string, TrailLabel>>

export interface AccountDataRegistry {
  add(section: AccountDataSection): void
  sections(): readonly AccountDataSection[]
  /** How the access log names the items of a resource type this feature owns. */
  addLabeler(resourceType: TrailResource, labeler: TrailLabeler): void
  labeler(resourceType: string): TrailLabeler | undefined
}

export function createAccountDataRegistry(): AccountDataRegistry {
  const sections: AccountDataSection[] = []
  const labelers = new Map<string, TrailLabeler>()
  return {
    addLabeler(resourceType, labeler) {
      if (labelers.has(resourceType)) throw new Error(`trail labeler for ${resourceType} registered twice`)
      labelers.set(resourceType, labeler)
    },
    labeler: (resourceType) => labelers.get(resourceType),
    add(section) {
      if (sections.some((existing) => existing.name === section.name)) throw new Error(`export section ${section.name} registered twice`)
      sections.push(section)
    },
    sections: () => sections,
  }
}
