/**
 * A small structural validator for the FHIR R4 resources we emit (no network, no FHIR library):
 * allowed element names, required elements and their cardinality, code values from the R4 value
 * sets, the invariants of http://hl7.org/fhir/R4/questionnaire.html (que-1, -2, -4, -5, -6, -9) and
 * questionnaireresponse.html (qrs-1, -2), and — given the Questionnaire — that every answer matches
 * its item: linkIds exist, value types fit the item type, codings are among the options, required
 * items are answered. Returns one line per problem, so a failing test says what is wrong.
 */

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0 && value === value.trim()

const ID = /^[A-Za-z0-9\-.]{1,64}$/
const DATE_TIME = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/
const ABSOLUTE_URI = /^[a-z][a-z0-9+.-]*:\S+$/i
const NAME = /^[A-Z]([A-Za-z0-9_]){0,254}$/

const RESOURCE_BASE = ['resourceType', 'id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension']
const QUESTIONNAIRE_ELEMENTS = [
  ...RESOURCE_BASE,
  'url', 'identifier', 'version', 'name', 'title', 'derivedFrom', 'status', 'experimental', 'subjectType', 'date', 'publisher', 'contact',
  'description', 'useContext', 'jurisdiction', 'purpose', 'copyright', 'approvalDate', 'lastReviewDate', 'effectivePeriod', 'code', 'item',
]
const Q_ITEM_ELEMENTS = [
  'id', 'extension', 'modifierExtension', 'linkId', 'definition', 'code', 'prefix', 'text', 'type', 'enableWhen', 'enableBehavior', 'required',
  'repeats', 'readOnly', 'maxLength', 'answerValueSet', 'answerOption', 'initial', 'item',
]
const ANSWER_OPTION_VALUES = ['valueInteger', 'valueDate', 'valueTime', 'valueString', 'valueCoding', 'valueReference']
const ANSWER_OPTION_ELEMENTS = ['id', 'extension', 'modifierExtension', ...ANSWER_OPTION_VALUES, 'initialSelected']
const QUESTIONNAIRE_STATUS = ['draft', 'active', 'retired', 'unknown']
const ITEM_TYPES = ['group', 'display', 'boolean', 'decimal', 'integer', 'date', 'dateTime', 'time', 'string', 'text', 'url', 'choice', 'open-choice', 'attachment', 'reference', 'quantity']

const RESPONSE_ELEMENTS = [...RESOURCE_BASE, 'identifier', 'basedOn', 'partOf', 'questionnaire', 'status', 'subject', 'encounter', 'authored', 'author', 'source', 'item']
const R_ITEM_ELEMENTS = ['id', 'extension', 'modifierExtension', 'linkId', 'definition', 'text', 'answer', 'item']
const ANSWER_VALUES = [
  'valueBoolean', 'valueDecimal', 'valueInteger', 'valueDate', 'valueDateTime', 'valueTime', 'valueString', 'valueUri', 'valueAttachment', 'valueCoding',
  'valueQuantity', 'valueReference',
]
const R_ANSWER_ELEMENTS = ['id', 'extension', 'modifierExtension', ...ANSWER_VALUES, 'item']
const RESPONSE_STATUS = ['in-progress', 'completed', 'amended', 'entered-in-error', 'stopped']

/** Which answer value type each item type takes (R4 QuestionnaireResponse.item.answer.value[x]). */
const VALUE_FOR_TYPE: Record<string, string[]> = {
  boolean: ['valueBoolean'],
  decimal: ['valueDecimal'],
  integer: ['valueInteger'],
  date: ['valueDate'],
  dateTime: ['valueDateTime'],
  time: ['valueTime'],
  string: ['valueString'],
  text: ['valueString'],
  url: ['valueUri'],
  choice: ['valueCoding', 'valueInteger', 'valueDate', 'valueTime', 'valueString', 'valueReference'],
  'open-choice': ['valueCoding', 'valueInteger', 'valueDate', 'valueTime', 'valueString', 'valueReference'],
  attachment: ['valueAttachment'],
  reference: ['valueReference'],
  quantity: ['valueQuantity'],
}

function unknownElements(where: string, value: Json, allowed: string[], problems: string[]) {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) problems.push(`${where}: unknown element "${key}"`)
}

function codingProblems(where: string, coding: unknown, problems: string[]) {
  if (!isObject(coding)) return problems.push(`${where}: Coding must be an object`)
  unknownElements(where, coding, ['id', 'extension', 'system', 'version', 'code', 'display', 'userSelected'], problems)
  if (coding.system !== undefined && !(typeof coding.system === 'string' && ABSOLUTE_URI.test(coding.system))) problems.push(`${where}.system must be an absolute URI`)
  if (coding.code !== undefined && !isNonEmptyString(coding.code)) problems.push(`${where}.code must be a non-empty code without surrounding whitespace`)
  if (coding.display !== undefined && typeof coding.display !== 'string') problems.push(`${where}.display must be a string`)
  return undefined
}

function extensionProblems(where: string, extensions: unknown, problems: string[]) {
  if (extensions === undefined) return
  if (!Array.isArray(extensions) || extensions.length === 0) return problems.push(`${where}.extension must be a non-empty array`)
  extensions.forEach((extension: unknown, index) => {
    const at = `${where}.extension[${index}]`
    if (!isObject(extension)) return problems.push(`${at} must be an object`)
    if (!(typeof extension.url === 'string' && ABSOLUTE_URI.test(extension.url))) problems.push(`${at}.url is required (absolute URI)`)
    const values = Object.keys(extension).filter((key) => key.startsWith('value'))
    if (values.length !== 1) problems.push(`${at} must have exactly one value[x]`)
    return undefined
  })
}

function valueProblems(where: string, name: string, value: unknown, problems: string[]) {
  if (name === 'valueCoding') codingProblems(`${where}.valueCoding`, value, problems)
  else if (name === 'valueInteger' && !(Number.isInteger(value) && Math.abs(value as number) <= 2147483647)) problems.push(`${where}.valueInteger must be a 32-bit integer`)
  else if (name === 'valueDecimal' && typeof value !== 'number') problems.push(`${where}.valueDecimal must be a number`)
  else if (name === 'valueBoolean' && typeof value !== 'boolean') problems.push(`${where}.valueBoolean must be a boolean`)
  else if (name === 'valueString' && !isNonEmptyString(value)) problems.push(`${where}.valueString must be a non-empty string`)
}

/** Problems with a FHIR R4 Questionnaire; empty when it is well-formed. */
export function questionnaireProblems(resource: unknown): string[] {
  const problems: string[] = []
  if (!isObject(resource)) return ['not a JSON object']
  if (resource.resourceType !== 'Questionnaire') problems.push('resourceType must be "Questionnaire"')
  unknownElements('Questionnaire', resource, QUESTIONNAIRE_ELEMENTS, problems)
  if (resource.id !== undefined && !(typeof resource.id === 'string' && ID.test(resource.id))) problems.push('id must match [A-Za-z0-9-.]{1,64}')
  if (!QUESTIONNAIRE_STATUS.includes(resource.status as string)) problems.push(`status is required, one of ${QUESTIONNAIRE_STATUS.join(', ')}`)
  if (resource.url !== undefined && !(typeof resource.url === 'string' && ABSOLUTE_URI.test(resource.url))) problems.push('url must be an absolute URI')
  if (resource.version !== undefined && !isNonEmptyString(resource.version)) problems.push('version must be a string')
  if (resource.name !== undefined && !(typeof resource.name === 'string' && NAME.test(resource.name))) problems.push('name must be a computable name (que-0)')
  if (resource.subjectType !== undefined && !(Array.isArray(resource.subjectType) && resource.subjectType.every(isNonEmptyString))) problems.push('subjectType must be codes')
  for (const text of ['title', 'publisher', 'description', 'copyright']) {
    if (resource[text] !== undefined && typeof resource[text] !== 'string') problems.push(`${text} must be a string`)
  }
  if (resource.code !== undefined) {
    if (!Array.isArray(resource.code)) problems.push('code must be an array of Coding')
    else resource.code.forEach((coding: unknown, index) => codingProblems(`Questionnaire.code[${index}]`, coding, problems))
  }
  extensionProblems('Questionnaire', resource.extension, problems)

  const linkIds = new Set<string>()
  const checkItems = (items: unknown, where: string) => {
    if (!Array.isArray(items) || items.length === 0) return problems.push(`${where} must be a non-empty array`)
    items.forEach((item: unknown, index) => {
      const at = `${where}[${index}]`
      if (!isObject(item)) return problems.push(`${at} must be an object`)
      unknownElements(at, item, Q_ITEM_ELEMENTS, problems)
      if (!isNonEmptyString(item.linkId)) problems.push(`${at}.linkId is required`)
      else if (linkIds.has(item.linkId)) problems.push(`${at}.linkId ${item.linkId} is not unique (que-2)`)
      else linkIds.add(item.linkId)
      const type = item.type as string
      if (!ITEM_TYPES.includes(type)) problems.push(`${at}.type is required, one of the R4 item types`)
      if (item.code !== undefined) {
        if (!Array.isArray(item.code)) problems.push(`${at}.code must be an array`)
        else item.code.forEach((coding: unknown, n) => codingProblems(`${at}.code[${n}]`, coding, problems))
      }
      if (item.text !== undefined && typeof item.text !== 'string') problems.push(`${at}.text must be a string`)
      for (const flag of ['required', 'repeats', 'readOnly']) {
        if (item[flag] !== undefined && typeof item[flag] !== 'boolean') problems.push(`${at}.${flag} must be a boolean`)
      }
      if (type === 'display' && (item.required !== undefined || item.repeats !== undefined)) problems.push(`${at}: display items take no required/repeats (que-6)`)
      if (type === 'display' && item.readOnly !== undefined) problems.push(`${at}: display items cannot be readOnly (que-9)`)
      if (type === 'group' && item.item === undefined) problems.push(`${at}: group items need nested items (que-1)`)
      if (type === 'display' && item.item !== undefined) problems.push(`${at}: display items cannot have nested items (que-1)`)
      if (item.answerOption !== undefined && item.answerValueSet !== undefined) problems.push(`${at}: answerOption and answerValueSet together (que-4)`)
      if ((item.answerOption !== undefined || item.answerValueSet !== undefined) && type !== 'choice' && type !== 'open-choice') {
        problems.push(`${at}: only choice items take answer options (que-5)`)
      }
      if (item.answerOption !== undefined) {
        if (!Array.isArray(item.answerOption) || item.answerOption.length === 0) problems.push(`${at}.answerOption must be a non-empty array`)
        else {
          item.answerOption.forEach((option: unknown, n) => {
            const optionAt = `${at}.answerOption[${n}]`
            if (!isObject(option)) return problems.push(`${optionAt} must be an object`)
            unknownElements(optionAt, option, ANSWER_OPTION_ELEMENTS, problems)
            const values = ANSWER_OPTION_VALUES.filter((name) => option[name] !== undefined)
            if (values.length !== 1) problems.push(`${optionAt} must have exactly one value[x]`)
            for (const name of values) valueProblems(optionAt, name, option[name], problems)
            extensionProblems(optionAt, option.extension, problems)
            return undefined
          })
        }
      }
      extensionProblems(at, item.extension, problems)
      if (item.item !== undefined) checkItems(item.item, `${at}.item`)
      return undefined
    })
    return undefined
  }
  if (resource.item !== undefined) checkItems(resource.item, 'Questionnaire.item')
  return problems
}

/** Every item of a Questionnaire by linkId, nested ones included. */
function itemsByLinkId(questionnaire: Json): Map<string, Json> {
  const found = new Map<string, Json>()
  const walk = (items: unknown) => {
    if (!Array.isArray(items)) return
    for (const item of items) {
      if (!isObject(item)) continue
      if (typeof item.linkId === 'string') found.set(item.linkId, item)
      walk(item.item)
    }
  }
  walk(questionnaire.item)
  return found
}

/**
 * Problems with a FHIR R4 QuestionnaireResponse; with its Questionnaire, also whether each answer
 * fits its item. Empty when it is well-formed.
 */
export function questionnaireResponseProblems(resource: unknown, questionnaire?: unknown): string[] {
  const problems: string[] = []
  if (!isObject(resource)) return ['not a JSON object']
  if (resource.resourceType !== 'QuestionnaireResponse') problems.push('resourceType must be "QuestionnaireResponse"')
  unknownElements('QuestionnaireResponse', resource, RESPONSE_ELEMENTS, problems)
  if (resource.id !== undefined && !(typeof resource.id === 'string' && ID.test(resource.id))) problems.push('id must match [A-Za-z0-9-.]{1,64}')
  if (!RESPONSE_STATUS.includes(resource.status as string)) problems.push(`status is required, one of ${RESPONSE_STATUS.join(', ')}`)
  if (resource.identifier !== undefined) {
    // 0..1 in R4: one Identifier, not an array.
    if (!isObject(resource.identifier)) problems.push('identifier must be a single Identifier')
    else if (resource.identifier.system !== undefined && !(typeof resource.identifier.system === 'string' && ABSOLUTE_URI.test(resource.identifier.system))) {
      problems.push('identifier.system must be an absolute URI')
    }
  }
  if (resource.questionnaire !== undefined && !(typeof resource.questionnaire === 'string' && /^\S+$/.test(resource.questionnaire))) {
    problems.push('questionnaire must be a canonical URL')
  }
  if (resource.authored !== undefined && !(typeof resource.authored === 'string' && DATE_TIME.test(resource.authored))) problems.push('authored must be a FHIR dateTime')

  const definitions = isObject(questionnaire) ? itemsByLinkId(questionnaire) : undefined
  const answeredLinkIds = new Set<string>()
  const checkItems = (items: unknown, where: string) => {
    if (!Array.isArray(items) || items.length === 0) return problems.push(`${where} must be a non-empty array`)
    const siblings = new Set<string>()
    items.forEach((item: unknown, index) => {
      const at = `${where}[${index}]`
      if (!isObject(item)) return problems.push(`${at} must be an object`)
      unknownElements(at, item, R_ITEM_ELEMENTS, problems)
      if (!isNonEmptyString(item.linkId)) return problems.push(`${at}.linkId is required`)
      if (siblings.has(item.linkId)) problems.push(`${at}.linkId ${item.linkId} repeats among siblings: combine answers in one item (qrs-2)`)
      siblings.add(item.linkId)
      if (item.answer !== undefined && item.item !== undefined) problems.push(`${at}: nested items go beneath answer or item, not both (qrs-1)`)
      const definition = definitions?.get(item.linkId)
      if (definitions && !definition) problems.push(`${at}.linkId ${item.linkId} is not in the Questionnaire`)
      if (definition?.type === 'display' || definition?.type === 'group') {
        if (item.answer !== undefined) problems.push(`${at}: ${String(definition.type)} items take no answers`)
      }
      if (item.answer !== undefined) {
        if (!Array.isArray(item.answer) || item.answer.length === 0) problems.push(`${at}.answer must be a non-empty array`)
        else {
          if (item.answer.length > 1 && definition && definition.repeats !== true) problems.push(`${at}: several answers to a non-repeating item`)
          answeredLinkIds.add(item.linkId)
          item.answer.forEach((answer: unknown, n) => {
            const answerAt = `${at}.answer[${n}]`
            if (!isObject(answer)) return problems.push(`${answerAt} must be an object`)
            unknownElements(answerAt, answer, R_ANSWER_ELEMENTS, problems)
            const values = ANSWER_VALUES.filter((name) => answer[name] !== undefined)
            if (values.length !== 1) return problems.push(`${answerAt} must have exactly one value[x]`)
            const name = values[0] ?? ''
            valueProblems(answerAt, name, answer[name], problems)
            if (definition) {
              const allowed = VALUE_FOR_TYPE[definition.type as string] ?? []
              if (!allowed.includes(name)) problems.push(`${answerAt}: ${name} does not fit an item of type ${String(definition.type)}`)
              if (Array.isArray(definition.answerOption)) {
                const optionTypes = new Set(definition.answerOption.flatMap((option: unknown) => (isObject(option) ? Object.keys(option).filter((key) => key.startsWith('value')) : [])))
                if (!optionTypes.has(name)) problems.push(`${answerAt}: ${name} is not the type of the item's options (${[...optionTypes].join(', ')})`)
              }
              if (name === 'valueCoding' && Array.isArray(definition.answerOption)) {
                const coding = answer.valueCoding as Json
                const matches = definition.answerOption.some(
                  (option: unknown) => isObject(option) && isObject(option.valueCoding) && option.valueCoding.system === coding.system && option.valueCoding.code === coding.code,
                )
                if (!matches) problems.push(`${answerAt}: coding ${String(coding.system)}|${String(coding.code)} is not one of the item's options`)
              }
            }
            return undefined
          })
        }
      }
      if (item.item !== undefined) checkItems(item.item, `${at}.item`)
      return undefined
    })
    return undefined
  }
  if (resource.item !== undefined) checkItems(resource.item, 'QuestionnaireResponse.item')

  if (definitions && resource.status === 'completed') {
    for (const [linkId, definition] of definitions) {
      if (definition.required === true && !answeredLinkIds.has(linkId)) problems.push(`required item ${linkId} is not answered`)
    }
  }
  if (isObject(questionnaire) && typeof resource.questionnaire === 'string') {
    const [url, version] = resource.questionnaire.split('|')
    if (url !== questionnaire.url) problems.push(`questionnaire ${url ?? ''} is not the Questionnaire's url ${String(questionnaire.url)}`)
    if (version !== undefined && version !== questionnaire.version) problems.push(`questionnaire version ${version} is not ${String(questionnaire.version)}`)
  }
  return problems
}
