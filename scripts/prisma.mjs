#!/usr/bin/env node
// Runs Prisma's CLI (e.g. `npm run prisma -- generate`) with our config file.
// Prisma's CLI downloads a native schema engine before most commands, even `generate`, which never
// uses it; where that download cannot happen (offline builds, this project's CI) it fails. Pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download, and `generate` works the same
// everywhere. Commands that do need the engine (`migrate status`) still get it when the operator sets
// the variable to a real engine or leaves it to Prisma on a machine with internet: we only set it for generate.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const args = process.argv.slice(2)
const env = { ...process.env }
if (args[0] === 'generate' && !env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath
const cli = require.resolve('prisma/build/index.js')
const result = spawnSync(process.execPath, [cli, ...args, '--config', 'prisma/prisma.config.ts'], { stdio: 'inherit', env })
process.exit(result.status ?? 1)
