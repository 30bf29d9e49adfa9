// Config for Prisma's own CLI (`prisma generate`, `prisma migrate status`, …).
// The app itself never reads this file: it migrates with its own runner (src/db/migrations.ts).
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
})
