import type { DemoDataLoader } from './db/demo-data.js'
import { demoClientLoader } from './modules/auth/auth-demo.js'
import { directoryDemoLoader } from './modules/directory/directory-seed.js'

/** What each feature contributes to the demo; the entry points (server.ts, `npm run db:seed`) pass it in. */
export const DEMO_DATA_LOADERS: readonly DemoDataLoader[] = [demoClientLoader, directoryDemoLoader]
