import type { TherapistInput } from './directory-schemas.js'
import { isValidNpi } from './directory-schemas.js'
import type { PostalCode } from './postal-codes.js'

/**
 * Realistic, deterministic demo therapists on real US geography, for the embedded demo, `npm run
 * db:seed` and the benchmark. Therapist number i depends only on (seed, i), so the first 3,000 of
 * a 100,000 run are the same 3,000 the demo loads. Offices sit near real ZIP code centroids, drawn
 * by metro population (80 %) or uniformly over all ZIP codes (20 %, for small towns); the mixes of
 * license types, modalities (2–6, CBT the most common), fees and formats follow the brief, and bios
 * are composed from fragments so full-text search has something to find.
 */

/** mulberry32: a small, fast, seedable PRNG; good enough for test data, not for secrets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const mix = (seed: number, i: number) => Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)

type Weighted<T> = readonly (readonly [T, number])[]

class Dice {
  constructor(private readonly random: () => number) {}
  next(): number {
    return this.random()
  }
  chance(p: number): boolean {
    return this.random() < p
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1))
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }
  weighted<T>(items: Weighted<T>): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0)
    let roll = this.random() * total
    for (const [item, weight] of items) {
      roll -= weight
      if (roll < 0) return item
    }
    const last = items.at(-1)
    if (!last) throw new Error('weighted pick from an empty list')
    return last[0]
  }
  /** k distinct items, each drawn with its weight. */
  sample<T>(items: Weighted<T>, k: number): T[] {
    const pool = [...items]
    const out: T[] = []
    while (out.length < k && pool.length > 0) {
      const item = this.weighted(pool)
      out.push(item)
      pool.splice(pool.findIndex(([candidate]) => candidate === item), 1)
    }
    return out
  }
}

/** Metros by rough population (millions, 2020 census metro areas), with the principal city's ZIP codes drawn from the data. */
const METROS: Weighted<readonly [string, string]> = [
  [['New York', 'NY'], 19.8], [['Los Angeles', 'CA'], 13.2], [['Chicago', 'IL'], 9.6], [['Dallas', 'TX'], 7.6], [['Houston', 'TX'], 7.1],
  [['Washington', 'DC'], 6.4], [['Philadelphia', 'PA'], 6.2], [['Miami', 'FL'], 6.1], [['Atlanta', 'GA'], 6.1], [['Boston', 'MA'], 4.9],
  [['Phoenix', 'AZ'], 4.8], [['San Francisco', 'CA'], 4.7], [['Riverside', 'CA'], 4.6], [['Detroit', 'MI'], 4.4], [['Seattle', 'WA'], 4.0],
  [['Minneapolis', 'MN'], 3.7], [['San Diego', 'CA'], 3.3], [['Tampa', 'FL'], 3.2], [['Denver', 'CO'], 3.0], [['Baltimore', 'MD'], 2.8],
  [['Saint Louis', 'MO'], 2.8], [['Orlando', 'FL'], 2.7], [['Charlotte', 'NC'], 2.7], [['San Antonio', 'TX'], 2.6], [['Portland', 'OR'], 2.5],
  [['Sacramento', 'CA'], 2.4], [['Pittsburgh', 'PA'], 2.4], [['Austin', 'TX'], 2.3], [['Las Vegas', 'NV'], 2.3], [['Cincinnati', 'OH'], 2.3],
  [['Kansas City', 'MO'], 2.2], [['Columbus', 'OH'], 2.1], [['Indianapolis', 'IN'], 2.1], [['Cleveland', 'OH'], 2.1], [['San Jose', 'CA'], 2.0],
  [['Nashville', 'TN'], 2.0], [['Virginia Beach', 'VA'], 1.8], [['Providence', 'RI'], 1.7], [['Jacksonville', 'FL'], 1.6], [['Milwaukee', 'WI'], 1.6],
  [['Raleigh', 'NC'], 1.4], [['Oklahoma City', 'OK'], 1.4], [['Memphis', 'TN'], 1.3], [['Richmond', 'VA'], 1.3], [['Louisville', 'KY'], 1.3],
  [['New Orleans', 'LA'], 1.3], [['Salt Lake City', 'UT'], 1.3], [['Hartford', 'CT'], 1.2], [['Buffalo', 'NY'], 1.2], [['Birmingham', 'AL'], 1.1],
  [['Rochester', 'NY'], 1.1], [['Grand Rapids', 'MI'], 1.1], [['Tucson', 'AZ'], 1.0], [['Honolulu', 'HI'], 1.0], [['Tulsa', 'OK'], 1.0],
  [['Fresno', 'CA'], 1.0], [['Omaha', 'NE'], 0.97], [['Albuquerque', 'NM'], 0.92], [['Boise', 'ID'], 0.76], [['Madison', 'WI'], 0.68],
  [['Des Moines', 'IA'], 0.7], [['Oakland', 'CA'], 1.0], [['Berkeley', 'CA'], 0.3], [['Brooklyn', 'NY'], 2.5], [['Cambridge', 'MA'], 0.4],
  [['Anchorage', 'AK'], 0.4], [['Burlington', 'VT'], 0.2], [['Portland', 'ME'], 0.55], [['Manchester', 'NH'], 0.4], [['Wilmington', 'DE'], 0.7],
  [['Charleston', 'WV'], 0.25], [['Sioux Falls', 'SD'], 0.28], [['Fargo', 'ND'], 0.25], [['Billings', 'MT'], 0.18], [['Cheyenne', 'WY'], 0.1],
  [['Little Rock', 'AR'], 0.75], [['Jackson', 'MS'], 0.6], [['Columbia', 'SC'], 0.83], [['Wichita', 'KS'], 0.65], [['Spokane', 'WA'], 0.6],
]

const LICENSES: Weighted<{ type: string; abbr: string; credentials: readonly (readonly string[])[] }> = [
  [{ type: 'lcsw', abbr: 'LCSW', credentials: [['MSW', 'LCSW'], ['LCSW']] }, 25],
  [{ type: 'lmft', abbr: 'LMFT', credentials: [['MA', 'LMFT'], ['MS', 'LMFT'], ['LMFT']] }, 21],
  [{ type: 'psychologist', abbr: 'PSY', credentials: [['PhD'], ['PsyD'], ['PhD', 'ABPP']] }, 20],
  [{ type: 'lpc', abbr: 'LPC', credentials: [['MA', 'LPC'], ['MS', 'LPC', 'NCC'], ['LPCC']] }, 15],
  [{ type: 'lmhc', abbr: 'LMHC', credentials: [['MA', 'LMHC'], ['MS', 'LMHC']] }, 8],
  [{ type: 'psychiatrist', abbr: 'MD', credentials: [['MD'], ['DO']] }, 3],
  [{ type: 'pmhnp', abbr: 'APRN', credentials: [['MSN', 'PMHNP-BC'], ['DNP', 'PMHNP-BC']] }, 3],
  [{ type: 'lcadc', abbr: 'LCADC', credentials: [['MA', 'LCADC']] }, 3],
  [{ type: 'psychoanalyst', abbr: 'LP', credentials: [['PhD', 'LP'], ['LP']] }, 2],
]

const MODALITIES: Weighted<string> = [
  ['cbt', 50], ['person-centered', 18], ['psychodynamic', 16], ['mindfulness-based', 16], ['attachment-based', 14], ['act', 13],
  ['dbt', 10], ['emdr', 10], ['solution-focused', 10], ['ifs', 9], ['eft', 8], ['family-systems', 8], ['motivational-interviewing', 7],
  ['gottman', 6], ['narrative', 6], ['somatic', 6], ['exposure-therapy', 5], ['cpt', 4], ['schema-therapy', 3], ['psychoanalytic', 3],
  ['gestalt', 3], ['imago', 2],
]
/** Couples- and family-trained clinicians lean relational. */
const RELATIONAL_BOOST: Record<string, number> = { eft: 3, gottman: 4, 'family-systems': 3, imago: 3, 'attachment-based': 1.5 }

const SPECIALTIES: Weighted<string> = [
  ['anxiety', 60], ['depression', 55], ['relationship-issues', 35], ['trauma', 35], ['stress', 30], ['self-esteem', 25], ['life-transitions', 20],
  ['communication', 18], ['grief', 15], ['emotional-regulation', 14], ['boundaries', 12], ['attachment', 12], ['lgbtq', 12], ['codependency', 10],
  ['divorce', 10], ['parenting', 10], ['family-conflict', 10], ['infidelity', 8], ['anger', 8], ['substance-use', 8], ['adhd', 8], ['ocd', 6],
  ['sexual-issues', 5],
]

const FIRST_NAMES = [
  'Maya', 'James', 'Olivia', 'Noah', 'Emma', 'Liam', 'Ava', 'Ethan', 'Sophia', 'Lucas', 'Isabella', 'Mateo', 'Mia', 'Elijah', 'Amelia', 'Daniel',
  'Harper', 'Benjamin', 'Evelyn', 'Samuel', 'Abigail', 'David', 'Emily', 'Joseph', 'Sofia', 'Carlos', 'Camila', 'Diego', 'Valentina', 'Luis',
  'Priya', 'Arjun', 'Ananya', 'Rohan', 'Mei', 'Wei', 'Jia', 'Hiroshi', 'Yuki', 'Min-jun', 'Seo-yeon', 'Thanh', 'Linh', 'Fatima', 'Omar', 'Aisha',
  'Yusuf', 'Leila', 'Kwame', 'Amara', 'Chidi', 'Ngozi', 'Jamal', 'Keisha', 'Malik', 'Imani', 'Darnell', 'Tanisha', 'Rachel', 'Aaron', 'Miriam',
  'Ezra', 'Hannah', 'Caleb', 'Grace', 'Nathan', 'Chloe', 'Owen', 'Zoe', 'Isaac', 'Nora', 'Julian', 'Lily', 'Gabriel', 'Hazel', 'Adrian', 'Ruby',
  'Sean', 'Siobhan', 'Anders', 'Ingrid', 'Dmitri', 'Natasha', 'Alejandro', 'Lucia', 'Marco', 'Giulia', 'Jordan', 'Taylor', 'Riley', 'Avery', 'Quinn',
]
const LAST_NAMES = [
  'Okafor', 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez',
  'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark',
  'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams',
  'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Patel', 'Shah', 'Kim', 'Park', 'Chen', 'Wang', 'Liu', 'Tanaka',
  'Sato', 'Tran', 'Pham', 'Khan', 'Ali', 'Haddad', 'Mensah', 'Adeyemi', 'Cohen', 'Levy', 'Goldberg', 'Murphy', "O'Brien", 'Kowalski', 'Novak',
  'Ivanova', 'Rossi', 'Bianchi', 'Silva', 'Santos', 'Oliveira', 'Larsen', 'Berg', 'Fischer', 'Weber', 'Dubois', 'Moreau', 'Reyes', 'Cruz', 'Morales',
]
const LANGUAGES: Weighted<string> = [['es', 12], ['zh', 2], ['fr', 1.5], ['vi', 1], ['ko', 1], ['pt', 1], ['ru', 1], ['ar', 1], ['tl', 1], ['hi', 1], ['he', 0.5], ['ase', 0.5]]
const INSURERS = ['Aetna', 'Blue Cross Blue Shield', 'Cigna', 'UnitedHealthcare', 'Optum', 'Kaiser Permanente', 'Medicare', 'Medicaid', 'Humana', 'Anthem', 'Magellan', 'Tricare']

const STREETS = ['Main St', 'Oak Ave', 'Maple St', 'Cedar Rd', 'Pine St', 'Elm St', 'Washington Ave', 'Lake Dr', 'Hill St', 'Park Ave', 'Mission St', 'Broadway', 'Market St', 'Valencia St', 'Center St', 'Union St']

const SPECIALTY_PHRASES: Record<string, string> = {
  anxiety: 'anxiety, worry and panic', depression: 'depression and low mood', 'relationship-issues': 'relationship struggles and recurring arguments',
  trauma: 'trauma and its aftermath', stress: 'stress and burnout', 'self-esteem': 'self-esteem and a harsh inner critic', 'life-transitions': 'life transitions',
  communication: 'communication between partners', grief: 'grief and loss', 'emotional-regulation': 'overwhelming emotions', boundaries: 'setting healthy boundaries',
  attachment: 'anxious and avoidant attachment patterns', lgbtq: 'LGBTQ+ identity and affirmation', codependency: 'codependency and people-pleasing',
  divorce: 'separation and divorce', parenting: 'parenting challenges', 'family-conflict': 'family conflict', infidelity: 'recovering from infidelity',
  anger: 'anger that feels out of control', 'substance-use': 'substance use and recovery', adhd: 'ADHD and focus', ocd: 'OCD and intrusive thoughts',
  'sexual-issues': 'intimacy and sexual concerns',
}
const MODALITY_SENTENCES: Record<string, string> = {
  cbt: 'I use cognitive behavioral therapy (CBT) to notice unhelpful thoughts and practise new responses.',
  'person-centered': 'My stance is person-centered: warm, curious and led by what matters to you.',
  psychodynamic: 'Psychodynamic work helps us understand how early relationships echo in the present.',
  'mindfulness-based': 'Mindfulness practices help you slow down and meet difficult moments with less judgement.',
  'attachment-based': 'An attachment-based lens helps us see why closeness can feel both longed for and unsafe.',
  act: 'Acceptance and commitment therapy (ACT) helps you make room for hard feelings and act on your values.',
  dbt: 'DBT skills offer practical tools for distress tolerance and emotional regulation.',
  emdr: 'I am trained in EMDR to help painful memories lose their charge.',
  'solution-focused': 'Solution-focused sessions build on what already works for you.',
  ifs: 'Internal Family Systems (IFS) parts work helps you befriend the protective parts of yourself.',
  eft: 'Emotionally Focused Therapy helps couples step out of the pursue-withdraw cycle and reconnect.',
  'family-systems': 'A family systems view looks at the patterns between people, not just inside one person.',
  'motivational-interviewing': 'Motivational interviewing helps you explore ambivalence about change at your own pace.',
  gottman: 'Trained in the Gottman Method, I teach couples concrete skills for conflict and repair.',
  narrative: 'Narrative therapy helps you separate yourself from the problem and rewrite your story.',
  somatic: 'Somatic approaches bring the body into the work, since stress lives there too.',
  'exposure-therapy': 'Gradual exposure helps fears shrink when they are faced safely.',
  cpt: 'Cognitive processing therapy (CPT) helps untangle beliefs that formed after trauma.',
  'schema-therapy': 'Schema therapy addresses lifelong patterns that started in childhood.',
  psychoanalytic: 'Psychoanalytic therapy offers an unhurried space to explore the unconscious.',
  gestalt: 'Gestalt experiments bring awareness to what is happening right now.',
  imago: 'Imago dialogue helps partners truly hear each other.',
}
const OPENINGS = [
  'Therapy can be a place to breathe, reflect and reclaim agency over your emotional life.',
  'Many of my clients come to therapy alone, even when the struggle is in the relationship.',
  'You do not need permission to heal, and you do not have to do it alone.',
  'Whether you are in crisis or simply feel stuck, you deserve support.',
  'Seeking help is a sign of strength, not defeat.',
  'Change in one person can shift an entire relationship system.',
]
const CLOSINGS = [
  'I offer a free 15-minute consultation to see if we are a good fit.',
  'Sessions are collaborative, confidential and paced to you.',
  'Together we will clarify what you want and take steps toward it.',
  'I welcome clients of all backgrounds, identities and relationship structures.',
  'Evening appointments are available.',
]

/** One ZIP code centroid per metro city, drawn from the package's data; built once per pool. */
export interface GeoPool {
  metros: Weighted<PostalCode[]>
  all: PostalCode[]
}

export function geoPool(postalCodes: Map<string, PostalCode>): GeoPool {
  const byCity = new Map<string, PostalCode[]>()
  for (const code of postalCodes.values()) {
    const key = `${code.city.toLowerCase()}|${code.state}`
    const list = byCity.get(key)
    if (list) list.push(code)
    else byCity.set(key, [code])
  }
  const metros: [PostalCode[], number][] = []
  for (const [[city, state], weight] of METROS) {
    const codes = byCity.get(`${city.toLowerCase()}|${state}`)
    if (codes && codes.length > 0) metros.push([codes, weight])
  }
  return { metros, all: [...postalCodes.values()] }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits

function nearbyOffice(dice: Dice, zip: PostalCode, street: string) {
  // Up to ~2 km from the ZIP centroid, so offices in one ZIP code do not stack on one point.
  const distanceKm = dice.next() * 2
  const angle = dice.next() * 2 * Math.PI
  const latitude = zip.latitude + (distanceKm / 111.2) * Math.cos(angle)
  const longitude = zip.longitude + (distanceKm / (111.2 * Math.cos((zip.latitude * Math.PI) / 180))) * Math.sin(angle)
  return { street, city: zip.city, state: zip.state, postalCode: zip.postalCode, latitude: round(latitude, 6), longitude: round(longitude, 6) }
}

function npiFor(dice: Dice): string {
  const base = `1${String(dice.int(0, 99_999_999)).padStart(8, '0')}`
  for (let check = 0; check < 10; check += 1) if (isValidNpi(`${base}${check}`)) return `${base}${check}`
  throw new Error('unreachable: one check digit always fits')
}

const DAY_MS = 86_400_000

/**
 * Therapist number `index` (0-based) of the run seeded with `seed`, as an import line would give it.
 * @param now - the reference time for "last verified" dates, so output is reproducible
 */
export function generateTherapist(pool: GeoPool, seed: number, index: number, now = Date.UTC(2026, 10, 1)): TherapistInput {
  const dice = new Dice(prng(mix(seed, index)))
  const home = dice.chance(0.8) ? dice.pick(dice.weighted(pool.metros)) : dice.pick(pool.all)
  const license = dice.weighted(LICENSES)
  const relational = license.type === 'lmft' || dice.chance(0.1)

  const modalityWeights = MODALITIES.map(([slug, weight]) => [slug, relational ? weight * (RELATIONAL_BOOST[slug] ?? 1) : weight] as const)
  const modalities = dice.sample(modalityWeights, dice.weighted([[2, 20], [3, 30], [4, 25], [5, 15], [6, 10]] as const))
  const specialties = dice.sample(SPECIALTIES, dice.int(3, 8))
  const clientFocus = ['individuals', 'couples', 'families', 'teens', 'children', 'older-adults'].filter((focus) => {
    const p = { individuals: 0.95, couples: relational ? 0.75 : 0.3, families: relational ? 0.5 : 0.15, teens: 0.2, children: 0.08, 'older-adults': 0.1 }[focus] ?? 0
    return dice.chance(p)
  })
  if (clientFocus.length === 0) clientFocus.push('individuals')

  const mode = dice.weighted([['both', 55], ['in_person', 30], ['telehealth', 15]] as const)
  const formats = mode === 'both' ? ['in_person', 'telehealth'] : [mode]
  const offices = mode === 'telehealth' ? [] : [nearbyOffice(dice, home, `${dice.int(10, 4999)} ${dice.pick(STREETS)}${dice.chance(0.5) ? `, Suite ${dice.int(100, 450)}` : ''}`)]
  if (offices.length > 0 && dice.chance(0.15)) {
    offices.push(nearbyOffice(dice, home, `${dice.int(10, 4999)} ${dice.pick(STREETS)}`))
  }
  const licensedStates = dice.chance(0.25) ? [...new Set(Array.from({ length: dice.int(1, 3) }, () => dice.pick(pool.all).state))].filter((state) => state !== home.state) : []

  const prescriber = license.type === 'psychiatrist' || license.type === 'pmhnp'
  const listsFee = dice.chance(0.95)
  const feeMin = listsFee ? Math.min(prescriber ? 400 : 250, Math.max(60, Math.round((60 + dice.next() * 130 + dice.next() * 60 + (prescriber ? 80 : 0)) / 5) * 5)) : null
  const feeMax = feeMin === null ? null : feeMin + 5 * dice.int(0, 12)

  const first = dice.pick(FIRST_NAMES)
  const last = dice.pick(LAST_NAMES)
  const pronouns = dice.weighted([['she/her', 60], ['he/him', 30], ['they/them', 7], [null, 3]] as const)
  const focusText = clientFocus.includes('couples') ? 'individuals and couples' : clientFocus.includes('teens') ? 'adults and teens' : 'adults'
  const bio = [
    dice.pick(OPENINGS),
    `I work with ${focusText} facing ${specialties.slice(0, 3).map((slug) => SPECIALTY_PHRASES[slug] ?? slug).join(', ')}.`,
    ...modalities.slice(0, 3).map((slug) => MODALITY_SENTENCES[slug] ?? ''),
    specialties.length > 3 ? `I also see clients for ${specialties.slice(3).map((slug) => SPECIALTY_PHRASES[slug] ?? slug).join(' and ')}.` : '',
    dice.pick(CLOSINGS),
  ]
    .filter((sentence) => sentence !== '')
    .join(' ')

  const accepting = dice.chance(0.6)
  return {
    externalId: `demo-${seed}-${index + 1}`,
    name: `${first} ${last}`,
    pronouns,
    credentials: [...dice.pick(license.credentials)],
    license: { type: license.type, number: `${license.abbr} ${dice.int(10_000, 199_999)}`, state: home.state, licensedStates },
    npi: dice.chance(0.8) ? npiFor(dice) : null,
    bio,
    yearsInPractice: dice.int(1, 40),
    modalities,
    specialties,
    clientFocus,
    formats,
    languages: ['en', ...dice.sample(LANGUAGES, dice.chance(0.2) ? dice.int(1, 2) : 0)],
    offices,
    feeMin,
    feeMax,
    slidingScale: dice.chance(0.3),
    insurance: dice.chance(0.6) ? dice.sample(INSURERS.map((name) => [name, 1] as const), dice.int(1, 5)) : [],
    acceptingNewClients: accepting,
    acceptingNewClientsVerifiedAt: new Date(now - dice.int(0, 90) * DAY_MS - dice.int(0, DAY_MS)).toISOString(),
  }
}
