/** What features contribute to the machinery outside them (demo data, log redaction), for the entry points and app.ts. */
import type { DemoDataLoader } from './db/demo-data.js'
import { ASSESSMENT_LOG_REDACTIONS } from './modules/assessments/assessments-schemas.js'
import { demoClientLoader } from './modules/auth/auth-demo.js'
import { directoryDemoLoader } from './modules/directory/directory-seed.js'
import { JOURNAL_LOG_REDACTIONS } from './modules/journal/journal-fields.js'

/** Demo data: what an empty embedded database gets on its first start, and what `npm run db:seed` loads. */
export const DEMO_DATA_LOADERS: readonly DemoDataLoader[] = [demoClientLoader, directoryDemoLoader]

/** Object keys the logger redacts besides credentials: journal fields that are encrypted or private, assessment answers. */
export const FEATURE_LOG_REDACTIONS: readonly string[] = [...JOURNAL_LOG_REDACTIONS, ...ASSESSMENT_LOG_REDACTIONS]
