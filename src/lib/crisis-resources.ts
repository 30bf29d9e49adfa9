import { z } from 'zod'

/**
 * Kinds of risk an assessment answer can signal. Each instrument's safety rules name one, and
 * the configured crisis resources say which kinds they serve; configuration is refused unless
 * every kind has at least one resource, so a safety alert can never come without somewhere to turn.
 */
export const SAFETY_KINDS = ['self-harm', 'domestic-violence'] as const
export type SafetyKind = (typeof SAFETY_KINDS)[number]

export const CrisisResourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    for: z.array(z.enum(SAFETY_KINDS)).min(1).describe('The kinds of risk this resource serves.'),
    description: z.string().trim().min(1).max(500).describe('How to reach it, in one plain sentence an app can show as is.'),
    call: z.string().trim().min(1).max(40).optional().describe('Phone number to call.'),
    text: z.string().trim().min(1).max(40).optional().describe('Number to send a text message to.'),
    textKeyword: z.string().trim().min(1).max(40).optional().describe('Word to send as the text, where the service asks for one.'),
    chatUrl: z.url().optional().describe('Web chat.'),
    url: z.url().optional().describe('Website.'),
  })
  .meta({ id: 'CrisisResource' })
export type CrisisResource = z.infer<typeof CrisisResourceSchema>

/**
 * The US default (domain notes C.4 and C.6): 988 Suicide & Crisis Lifeline, emergency services
 * (911), and the National Domestic Violence Hotline. Non-US deployments set CRISIS_RESOURCES.
 */
export const DEFAULT_CRISIS_RESOURCES: CrisisResource[] = [
  {
    name: '988 Suicide & Crisis Lifeline',
    for: ['self-harm'],
    description: 'Free, confidential support, 24 hours a day, in the US: call or text 988, or chat at 988lifeline.org.',
    call: '988',
    text: '988',
    chatUrl: 'https://988lifeline.org/chat',
    url: 'https://988lifeline.org',
  },
  {
    name: 'National Domestic Violence Hotline',
    for: ['domestic-violence'],
    description: 'Free, confidential support, 24 hours a day, in the US: call 1-800-799-7233, text START to 88788, or chat at thehotline.org.',
    call: '1-800-799-7233',
    text: '88788',
    textKeyword: 'START',
    chatUrl: 'https://www.thehotline.org',
    url: 'https://www.thehotline.org',
  },
  {
    name: 'Emergency services',
    for: ['self-harm', 'domestic-violence'],
    description: 'If you or someone else is in immediate danger, call 911.',
    call: '911',
  },
]

/** A configured list: valid entries, and at least one for every kind of risk. */
export const CrisisResourcesSchema = z
  .array(CrisisResourceSchema)
  .min(1)
  .max(50)
  .superRefine((resources, ctx) => {
    for (const kind of SAFETY_KINDS) {
      if (!resources.some((resource) => resource.for.includes(kind))) {
        ctx.addIssue({ code: 'custom', message: `needs at least one resource for "${kind}"` })
      }
    }
  })

/** The resources for one kind of risk, in the configured order. */
export const resourcesFor = (resources: readonly CrisisResource[], kinds: ReadonlySet<SafetyKind>): CrisisResource[] =>
  resources.filter((resource) => resource.for.some((kind) => kinds.has(kind)))
