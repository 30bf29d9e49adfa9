import fp from 'fastify-plugin'
import type { Database } from '../db/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/**
 * Makes the database available to every module. The app does not own it: whoever opened it
 * (server.ts, a test's shared setup) migrates it before and closes it after.
 */
export const databasePlugin = fp(
  async (app, opts: { db: Database }) => {
    app.decorate('db', opts.db)
  },
  { name: 'database' },
)
