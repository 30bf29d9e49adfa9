import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh Postgres database for this run, or '' to run on the embedded database. */
    testDatabaseUrl: string
  }
}

/** Runs once per `npm test`: with DATABASE_URL, a new database to test in, dropped at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) {
    project.provide('testDatabaseUrl', '')
    return async () => undefined
  }
  const name = `therapath_test_${process.pid}_${Date.now().toString(36)}`
  await adminQuery(adminUrl, `create database "${name}"`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  project.provide('testDatabaseUrl', url.toString())
  return async () => {
    await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`)
  }
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
