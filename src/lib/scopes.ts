/** OAuth scopes, as in DESIGN.md. One list, so routes, tokens and the OpenAPI document agree. */
export const SCOPES = {
  'directory:read': 'Search the therapist directory and read profiles and vocabularies.',
  'directory:write': 'Create, correct, delete and bulk-import therapists (curators).',
  'assessments:read': "Read the user's own assessment results and progress.",
  'assessments:write': 'Submit and delete assessments for the user.',
  'journal:read': "Read the user's own journal entries and insights.",
  'journal:write': 'Write, edit and delete journal entries for the user.',
  'webhooks:write': "Manage the app's own webhook endpoints (directory change notifications) and see their deliveries.",
} as const

export type Scope = keyof typeof SCOPES
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[]

/** What a signed-in end user's token carries. Curation is for integrator apps, not end users. */
export const USER_SCOPES: Scope[] = ['directory:read', 'assessments:read', 'assessments:write', 'journal:read', 'journal:write']

/** What an integrator app may be granted: apps act on the directory (and their own webhooks), never on a user's private data. */
export const CLIENT_SCOPES: Scope[] = ['directory:read', 'directory:write', 'webhooks:write']

export const isScope = (value: string): value is Scope => Object.hasOwn(SCOPES, value)
