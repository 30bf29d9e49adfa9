import { z } from 'zod'

/** The user as the API shows them, shared by sign-in (auth) and the account routes. */
export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().nullable().describe('Null for users who sign in through their app’s own identity provider.'),
    displayName: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'User' })

/** Only these columns of a user row, never the password hash. */
export const toUser = (row: { id: string; email: string | null; displayName: string | null; createdAt: Date }): z.infer<typeof UserSchema> => ({ id: row.id, email: row.email, displayName: row.displayName, createdAt: row.createdAt.toISOString() })
