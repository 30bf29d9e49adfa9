import type { App } from '../../src/app.js'

/**
 * Rows still pointing at a user, over every table with a foreign key to `users` (directly, or
 * through one that has one): `{}` when everything the user owned is gone.
 */
export async function ownedRowCount(app: App, userId: string): Promise<Record<string, number>> {
  const references = await app.db.query<{ table_name: string; column_name: string; foreign_table: string }>(
    `select kcu.table_name, kcu.column_name, ccu.table_name as foreign_table
       from information_schema.table_constraints tc
       join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
       join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.table_schema = tc.table_schema
      where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema()`,
  )
  const counts: Record<string, number> = {}
  const [users] = await app.db.query<{ n: number }>(`select count(*)::int as n from users where id = $1`, [userId])
  if ((users?.n ?? 0) > 0) counts.users = users?.n ?? 0
  for (const ref of references.filter((r) => r.foreign_table === 'users')) {
    const [row] = await app.db.query<{ n: number }>(`select count(*)::int as n from "${ref.table_name}" where "${ref.column_name}" = $1`, [userId])
    if ((row?.n ?? 0) > 0) counts[ref.table_name] = row?.n ?? 0
  }
  // One level further (e.g. refresh tokens → sessions → users): orphans would show here.
  for (const ref of references.filter((r) => r.foreign_table !== 'users')) {
    const parent = references.find((r) => r.table_name === ref.foreign_table && r.foreign_table === 'users')
    if (!parent) continue
    const [row] = await app.db.query<{ n: number }>(
      `select count(*)::int as n from "${ref.table_name}" child where not exists (select 1 from "${ref.foreign_table}" p where p.id = child."${ref.column_name}")`,
    )
    if ((row?.n ?? 0) > 0) counts[`${ref.table_name} (orphaned)`] = row?.n ?? 0
  }
  return counts
}
