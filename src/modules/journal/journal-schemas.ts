import { z } from 'zod'
import { CLOCK_SKEW_MS, DateOrInstantSchema, RANGE_CONVENTION, TimeZoneSchema } from '../../lib/date-range.js'
import { pageOf, PageQuerySchema } from '../../lib/pagination.js'
import { CONFLICT_RESPONSE_VALUES, conflictResponsesMarkdown, EMOTIONS } from './journal-vocabulary.js'

/** Largest body, in characters (Unicode code points). */
export const BODY_MAX = 20_000
export const TITLE_MAX = 200
/** Largest conflict free-text field (trigger, responseNote, outcome). */
export const CONFLICT_TEXT_MAX = 4_000
export const TAGS_MAX = 20
export const TAG_MAX_LENGTH = 40
const EARLIEST = Date.UTC(1900, 0, 1)

const codePoints = (text: string) => [...text].length

/**
 * Free text of at most `max` characters, counted as code points (an emoji is one), as JSON Schema
 * counts them; with `trim`, counted after trimming.
 */
function text(max: number, label: string, options: { trim?: boolean } = {}) {
  return (options.trim ? z.string().trim() : z.string())
    .superRefine((value, ctx) => {
      const length = codePoints(value)
      if (length > max) {
        ctx.addIssue({ code: 'too_big', origin: 'string', maximum: max, input: value, message: `${label} must be at most ${max.toLocaleString('en')} characters (it has ${length.toLocaleString('en')}).` })
      }
    })
    .meta({ maxLength: max })
}

const BodySchema = text(BODY_MAX, 'body')
  .refine((value) => value.trim().length > 0, 'body must contain some text.')
  .meta({ minLength: 1 })
  .describe(`What the user wrote, 1–${BODY_MAX.toLocaleString('en')} characters. Encrypted at rest.`)

/** Optional text that null clears; blank counts as null. */
const optionalText = (max: number, label: string, description: string, options: { trim?: boolean } = {}) =>
  text(max, label, options)
    .nullable()
    .transform((value) => (value === null || value.trim() === '' ? null : value))
    .optional()
    .describe(description)

const TitleSchema = optionalText(TITLE_MAX, 'title', `Optional title, up to ${TITLE_MAX} characters; trimmed. Encrypted at rest.`, { trim: true })

const MoodSchema = z.number().int().min(1).max(10).describe('Mood from 1 (very low) to 10 (very good).')

const EmotionSchema = z.enum(EMOTIONS, {
  error: (issue) => `Unknown emotion ${JSON.stringify(issue.input)}. Valid emotions: ${EMOTIONS.join(', ')}.`,
})

const ConflictResponseSchema = z.enum(CONFLICT_RESPONSE_VALUES, {
  error: (issue) => `Unknown conflict response ${JSON.stringify(issue.input)}. Valid responses: ${CONFLICT_RESPONSE_VALUES.join(', ')}.`,
})

const EmotionsSchema = z
  .array(EmotionSchema)
  .max(EMOTIONS.length)
  .transform((values) => [...new Set(values)])
  .describe(`Emotion words from the vocabulary (duplicates are dropped): ${EMOTIONS.map((e) => `\`${e}\``).join(', ')}.`)

/** Lower case, NFC, inner spaces as `-`: `Work Stress` and `work-stress` are one tag. */
export const normalizeTag = (tag: string): string => tag.normalize('NFC').trim().toLowerCase().replace(/\s+/g, '-')
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_-]*$/u

const TagSchema = z
  .string()
  .transform(normalizeTag)
  .pipe(
    z
      .string()
      .max(TAG_MAX_LENGTH, `A tag is at most ${TAG_MAX_LENGTH} characters.`)
      .regex(TAG_PATTERN, 'A tag is 1 or more letters, digits, `-` and `_`, starting with a letter or digit.'),
  )

const TagsSchema = z
  .array(TagSchema)
  .max(TAGS_MAX)
  .transform((values) => [...new Set(values)])
  .describe(
    `Free tags, at most ${TAGS_MAX}: each is normalised (trimmed, lower case, inner spaces become \`-\`), 1–${TAG_MAX_LENGTH} letters, digits, \`-\` and \`_\`; duplicates are dropped. ` +
      'Tags are not encrypted (lists filter on them): keep private details in the text.',
  )

const OccurredAtSchema = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((value) => value.getTime() <= Date.now() + CLOCK_SKEW_MS, 'occurredAt cannot be in the future.')
  .refine((value) => value.getTime() >= EARLIEST, 'occurredAt cannot be before 1900.')
  .describe('When what the entry is about happened (ISO 8601 with offset); defaults to now. Not in the future.')

const IntensitySchema = z.number().int().min(1).max(10).describe('How intense the conflict felt, 1–10.')

const ConflictFields = {
  trigger: optionalText(CONFLICT_TEXT_MAX, 'trigger', 'What happened: what set the conflict off. Encrypted at rest.'),
  response: ConflictResponseSchema.nullable().optional().describe(`How I responded, from the vocabulary:\n${conflictResponsesMarkdown()}`),
  responseNote: optionalText(CONFLICT_TEXT_MAX, 'responseNote', 'How I responded, in my own words. Encrypted at rest.'),
  outcome: optionalText(CONFLICT_TEXT_MAX, 'outcome', 'What came of it. Encrypted at rest.'),
  intensity: IntensitySchema.nullable().optional(),
}

const ConflictInputSchema = z
  .strictObject(ConflictFields)
  .describe('A conflict this entry is about: every part optional. On PATCH, given parts replace, `null` clears one part, absent parts stay.')

export const CreateJournalEntrySchema = z
  .strictObject({
    body: BodySchema,
    title: TitleSchema,
    mood: MoodSchema,
    emotions: EmotionsSchema.default([]),
    tags: TagsSchema.default([]),
    occurredAt: OccurredAtSchema.optional(),
    conflict: ConflictInputSchema.nullable().optional(),
  })
  .meta({
    id: 'NewJournalEntry',
    example: {
      body: 'We argued about the weekend again. I noticed the old urge to go silent, took ten minutes outside, then came back and said I need us to plan one day together.',
      title: 'Saturday plans',
      mood: 6,
      emotions: ['hurt', 'calm', 'hopeful'],
      tags: ['weekend', 'plans'],
      occurredAt: '2026-11-21T19:30:00+01:00',
      conflict: {
        trigger: 'He booked the whole weekend with friends without asking.',
        response: 'named-my-need',
        responseNote: 'Paused first, then asked for one day for us.',
        outcome: 'He agreed to keep Sunday free.',
        intensity: 6,
      },
    },
  })
export type CreateJournalEntry = z.output<typeof CreateJournalEntrySchema>

export const UpdateJournalEntrySchema = z
  .strictObject({
    body: BodySchema.optional(),
    title: TitleSchema,
    mood: MoodSchema.optional(),
    emotions: EmotionsSchema.optional(),
    tags: TagsSchema.optional(),
    occurredAt: OccurredAtSchema.optional(),
    conflict: ConflictInputSchema.nullable().optional(),
  })
  .refine((value) => Object.values(value).some((field) => field !== undefined), 'Send at least one field to change.')
  .meta({
    id: 'JournalEntryChanges',
    description: 'The fields to change, validated as on create. Absent fields stay; `title: null` clears the title, `conflict: null` the whole conflict part.',
    example: { mood: 7, conflict: { outcome: 'We planned Sunday together, and it went well.' } },
  })
export type UpdateJournalEntry = z.output<typeof UpdateJournalEntrySchema>

export const ConflictSchema = z
  .object({
    trigger: z.string().nullable().describe('What set the conflict off, in the user’s words (encrypted at rest).'),
    response: ConflictResponseSchema.nullable().describe('How the user responded, from the fixed vocabulary.'),
    responseGroup: z.enum(['reactive', 'regulated']).nullable().describe('The group of `response`: `reactive` or `regulated`.'),
    responseNote: z.string().nullable().describe('The response in the user’s own words (encrypted at rest).'),
    outcome: z.string().nullable().describe('What came of it (encrypted at rest).'),
    intensity: z.number().int().nullable().describe('How intense it was, 1 (mild) to 10 (overwhelming).'),
  })
  .meta({ id: 'JournalConflict', description: 'What happened in a conflict and how the user responded.' })

export const JournalEntrySchema = z
  .object({
    id: z.uuid(),
    occurredAt: z.iso.datetime(),
    title: z.string().nullable().describe('Optional title (encrypted at rest).'),
    body: z.string().describe('The entry’s text (encrypted at rest).'),
    mood: z.number().int().describe('Mood from 1 (lowest) to 10 (highest).'),
    emotions: z.array(z.string()).describe('Emotion words from the vocabulary.'),
    tags: z.array(z.string()).describe('The user’s own tags, normalised.'),
    conflict: ConflictSchema.nullable().describe('Null when the entry records no conflict.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    unreadable: z
      .literal(true)
      .optional()
      .describe(
        'Present (true) when some of the entry’s text cannot be decrypted (sealed with a retired key, or altered): those fields are empty (null, the body ""), ' +
          'the rest is shown. PATCH the entry with new text for those fields, or delete it.',
      ),
    unreadableCode: z
      .enum(['journal_key_unknown', 'journal_text_not_authentic'])
      .optional()
      .describe('Why, with `unreadable`: the key that sealed it is not configured, or the stored text does not authenticate.'),
  })
  .meta({
    id: 'JournalEntry',
    description: 'A private journal entry; only its author can read it.',
    example: {
      id: '3f6c2b1e-8a4d-4e2f-9b7c-1d2e3f4a5b6c',
      occurredAt: '2026-11-21T18:30:00.000Z',
      title: 'Saturday plans',
      body: 'We argued about the weekend again. I noticed the old urge to go silent, took ten minutes outside, then came back and said I need us to plan one day together.',
      mood: 6,
      emotions: ['hurt', 'calm', 'hopeful'],
      tags: ['weekend', 'plans'],
      conflict: {
        trigger: 'He booked the whole weekend with friends without asking.',
        response: 'named-my-need',
        responseGroup: 'regulated',
        responseNote: 'Paused first, then asked for one day for us.',
        outcome: 'He agreed to keep Sunday free.',
        intensity: 6,
      },
      createdAt: '2026-11-21T19:02:11.482Z',
      updatedAt: '2026-11-21T19:02:11.482Z',
    },
  })
export type JournalEntry = z.infer<typeof JournalEntrySchema>

export const JournalEntryPageSchema = pageOf(JournalEntrySchema).meta({ id: 'JournalEntryPage' })

export const EntryParamsSchema = z.object({ id: z.uuid().describe('The entry id.') })

/** One value or several, repeated (`?tag=a&tag=b`) or comma-separated (`?tag=a,b`). */
const oneOrMany = <T extends z.ZodType<string, string>>(item: T, max: number) =>
  z
    .union([z.string().describe('One value, or several separated by commas.'), z.array(item)])
    .transform((value): string[] => (Array.isArray(value) ? value : value.split(',').map((part) => part.trim())))
    .pipe(z.array(item).min(1).max(max))
    .optional()

export const ListEntriesQuerySchema = PageQuerySchema.extend({
  from: DateOrInstantSchema.optional().describe(`Entries that occurred at or after this. ${RANGE_CONVENTION}`),
  to: DateOrInstantSchema.optional().describe(`Entries that occurred at or before this. ${RANGE_CONVENTION}`),
  tz: TimeZoneSchema.describe('IANA time zone in which plain dates in `from` and `to` are read; default UTC.'),
  tag: oneOrMany(TagSchema, TAGS_MAX).describe('Entries with every one of these tags (repeat the parameter or separate with commas).'),
  emotion: oneOrMany(EmotionSchema, EMOTIONS.length).describe('Entries with every one of these emotions.'),
  moodMin: z.coerce.number().int().min(1).max(10).optional().describe('Entries with mood at least this.'),
  moodMax: z.coerce.number().int().min(1).max(10).optional().describe('Entries with mood at most this.'),
  conflictResponse: oneOrMany(ConflictResponseSchema, CONFLICT_RESPONSE_VALUES.length).describe('Entries whose conflict response is any of these.'),
})
export type ListEntriesQuery = z.output<typeof ListEntriesQuerySchema>

export const InsightsQuerySchema = z.object({
  from: DateOrInstantSchema.optional().describe(`Start of the period; default: the start of the 12th bucket back, the one holding \`to\` included. ${RANGE_CONVENTION}`),
  to: DateOrInstantSchema.optional().describe(`End of the period; default: now. ${RANGE_CONVENTION}`),
  bucket: z.enum(['week', 'month']).default('week').describe('Group by ISO week (starting Monday) or calendar month, in `tz`.'),
  tz: TimeZoneSchema.describe("The user's IANA time zone: it decides which day, week and month an entry falls in, and the streaks. Default UTC."),
})
export type InsightsQuery = z.output<typeof InsightsQuerySchema>

const MoodStatsSchema = z.object({
  count: z.number().int().describe('Entries in the bucket (every entry has a mood).'),
  mean: z.number().nullable().describe('Mean mood, 2 decimals; null without entries.'),
  min: z.number().int().nullable(),
  max: z.number().int().nullable(),
})

const ResponseCountSchema = z.object({ response: ConflictResponseSchema, group: z.enum(['reactive', 'regulated']), count: z.number().int() })

const BucketConflictSchema = z.object({
  count: z.number().int().describe('Entries with a conflict part.'),
  meanIntensity: z.number().nullable().describe('Mean conflict intensity, 2 decimals; null when no conflict had one.'),
  regulated: z.number().int().describe('Conflicts answered with a `regulated` response.'),
  reactive: z.number().int().describe('Conflicts answered with a `reactive` response.'),
  responses: z.array(ResponseCountSchema).describe('Count of each response used in the bucket, most used first.'),
})

export const JournalInsightsSchema = z
  .object({
    from: z.iso.datetime().describe('Start of the period (inclusive).'),
    to: z.iso.datetime().describe('End of the period (inclusive).'),
    bucket: z.enum(['week', 'month']),
    timeZone: z.string(),
    totals: z.object({
      entries: z.number().int(),
      meanMood: z.number().nullable(),
      conflicts: z.number().int().describe('Entries with a conflict part.'),
      meanIntensity: z.number().nullable(),
      flaggedEntries: z.number().int().describe('Entries of the period whose text was flagged for crisis language when written (see `safety` on writes); never the text.'),
    }),
    buckets: z
      .array(
        z.object({
          start: z.iso.date().describe('First day of the bucket, in `timeZone`.'),
          end: z.iso.date().describe('Last day of the bucket, in `timeZone`.'),
          mood: MoodStatsSchema,
          conflict: BucketConflictSchema,
          flaggedEntries: z.number().int().describe('Entries in the bucket whose text was flagged for crisis language when written.'),
        }),
      )
      .describe('Every week or month of the period, oldest first, empty ones included, so charts have no gaps.'),
    emotions: z
      .array(z.object({ emotion: EmotionSchema, count: z.number().int(), share: z.number().describe('Share of the period’s entries naming it, 0–1.'), meanMood: z.number() }))
      .describe('Emotions named in the period, most frequent first, with the mean mood of the entries naming each.'),
    conflictResponses: z.array(ResponseCountSchema).describe('Responses over the whole period, most used first.'),
    streaks: z
      .object({
        current: z.number().int().describe('Consecutive days with an entry, ending today or yesterday in `timeZone` (a streak is kept until a whole day passes without one); 0 otherwise.'),
        longest: z.number().int().describe('The longest run of consecutive days with an entry, ever.'),
        longestStart: z.iso.date().nullable(),
        longestEnd: z.iso.date().nullable(),
        lastEntryDay: z.iso.date().nullable().describe('The most recent day with an entry.'),
      })
      .describe('Writing streaks over all the user’s entries (not only the period), by the day each entry occurred in `timeZone`.'),
    assessmentScores: z
      .array(
        z.object({
          instrumentId: z.string(),
          points: z.array(z.object({ takenAt: z.iso.datetime(), score: z.number() })),
        }),
      )
      .describe("The user's self-assessment scores in the period, one series per instrument, to draw beside mood. Empty when they have taken none."),
  })
  .meta({
    id: 'JournalInsights',
    description: 'Progress over a period, computed from mood, emotions, conflict responses and intensity; entry text is never read to compute it.',
    example: {
      from: '2026-10-04T22:00:00.000Z',
      to: '2026-11-01T22:59:59.999Z',
      bucket: 'week',
      timeZone: 'Europe/Berlin',
      totals: { entries: 9, meanMood: 5.78, conflicts: 4, meanIntensity: 5.5, flaggedEntries: 0 },
      buckets: [
        {
          start: '2026-10-05',
          end: '2026-10-11',
          mood: { count: 3, mean: 4.33, min: 3, max: 6 },
          conflict: { count: 2, meanIntensity: 7, regulated: 0, reactive: 2, responses: [{ response: 'withdrew', group: 'reactive', count: 2 }] },
          flaggedEntries: 0,
        },
        {
          start: '2026-10-12',
          end: '2026-10-18',
          mood: { count: 0, mean: null, min: null, max: null },
          conflict: { count: 0, meanIntensity: null, regulated: 0, reactive: 0, responses: [] },
          flaggedEntries: 0,
        },
        {
          start: '2026-10-19',
          end: '2026-10-25',
          mood: { count: 4, mean: 6.25, min: 5, max: 8 },
          conflict: { count: 1, meanIntensity: 5, regulated: 1, reactive: 0, responses: [{ response: 'paused', group: 'regulated', count: 1 }] },
          flaggedEntries: 0,
        },
        {
          start: '2026-10-26',
          end: '2026-11-01',
          mood: { count: 2, mean: 7, min: 6, max: 8 },
          conflict: { count: 1, meanIntensity: 3, regulated: 1, reactive: 0, responses: [{ response: 'named-my-need', group: 'regulated', count: 1 }] },
          flaggedEntries: 0,
        },
      ],
      emotions: [
        { emotion: 'anxious', count: 4, share: 0.44, meanMood: 4.5 },
        { emotion: 'hopeful', count: 3, share: 0.33, meanMood: 7 },
      ],
      conflictResponses: [
        { response: 'withdrew', group: 'reactive', count: 2 },
        { response: 'named-my-need', group: 'regulated', count: 1 },
        { response: 'paused', group: 'regulated', count: 1 },
      ],
      streaks: { current: 3, longest: 5, longestStart: '2026-10-19', longestEnd: '2026-10-23', lastEntryDay: '2026-11-01' },
      assessmentScores: [{ instrumentId: 'gad-7', points: [{ takenAt: '2026-10-05T08:00:00.000Z', score: 12 }, { takenAt: '2026-11-01T08:00:00.000Z', score: 8 }] }],
    },
  })
export type JournalInsights = z.infer<typeof JournalInsightsSchema>
