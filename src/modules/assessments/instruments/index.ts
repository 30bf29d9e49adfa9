import type { InstrumentDefinition } from '../instrument-schema.js'
import { GAD_7 } from './gad-7.js'
import { PHQ_9 } from './phq-9.js'
import { RELATIONSHIP_RED_FLAGS } from './relationship-red-flags.js'
import { THERAPY_READINESS } from './therapy-readiness.js'

/**
 * The instruments this build offers, every released version of each. Keep old versions here when
 * adding a new one (results scored with them stay readable either way: the database keeps every
 * version it ever loaded). The highest version of each id is the one new assessments use.
 */
export const BUILT_IN_INSTRUMENTS: readonly InstrumentDefinition[] = [THERAPY_READINESS, RELATIONSHIP_RED_FLAGS, PHQ_9, GAD_7]
