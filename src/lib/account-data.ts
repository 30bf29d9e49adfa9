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
  /** Only tokens with this scope see the section, so an app granted less cannot export more. */
  scope: Scope
  /** Everything of this kind the user owns, readable by the user (decrypted, plain JSON). */
  export(userId: string): Promise<unknown>
}

export interface AccountDataRegistry {
  add(section: AccountDataSection): void
  sections(): readonly AccountDataSection[]
}

export function createAccountDataRegistry(): AccountDataRegistry {
  const sections: AccountDataSection[] = []
  return {
    add(section) {
      if (sections.some((existing) => existing.name === section.name)) throw new Error(`export section ${section.name} registered twice`)
      sections.push(section)
    },
    sections: () => sections,
  }
}
