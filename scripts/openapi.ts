/**
 * `npm run openapi`: writes openapi/openapi.json from the routes' Zod schemas. The app runs no
 * query while it builds, so this needs no database: the Postgres pool below is never connected.
 * A test fails when the committed file differs from what the code generates.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generateOpenApiDocument } from './openapi-document.js'

const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url))
mkdirSync(fileURLToPath(new URL('../openapi', import.meta.url)), { recursive: true })
writeFileSync(target, await generateOpenApiDocument())
console.log(`wrote ${target}`)
