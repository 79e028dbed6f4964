import { allSections, minimal, type Json } from '../support/test-node.js';

/** Broken variants of official documents, each with where its error must be reported. */
const entryOf = (b: Json, type: string, nth = 0): Json => (b['entry'] as Json[]).filter((e) => e['resource']['resourceType'] === type)[nth]!['resource'];
const indexOf = (b: Json, type: string, nth = 0): number =>
  (b['entry'] as Json[]).map((e, i) => [e, i] as const).filter(([e]) => e['resource']['resourceType'] === type)[nth]![1];
const sectionIndex = (b: Json, loinc: string): number =>
  (b['entry'][0].resource.section as Json[]).findIndex((s) => s['code'].coding[0].code === loinc);

/** [name, base document, mutation, expected FHIRPath of an error, expected constraint key] */
export type Mutation = [string, () => Json, (b: Json) => void, (b: Json) => string, string?];

const A = allSections;
const M = minimal;
export const mutations: Mutation[] = [
  ['Bundle.type not document', A, (b) => (b['type'] = 'collection'), () => 'Bundle.type'],
  ['Bundle.type not a code', A, (b) => (b['type'] = 'not a code '), () => 'Bundle.type'],
  ['no Bundle.identifier', A, (b) => delete b['identifier'], () => 'Bundle.identifier'],
  ['no Bundle.timestamp', A, (b) => delete b['timestamp'], () => 'Bundle.timestamp'],
  ['timestamp without zone', A, (b) => (b['timestamp'] = '2024-09-21T18:53:00'), () => 'Bundle.timestamp'],
  ['timestamp on 30 February', A, (b) => (b['timestamp'] = '2024-02-30T18:53:00Z'), () => 'Bundle.timestamp'],
  ['Composition not first', A, (b) => b['entry'].push(b['entry'].shift()), () => 'Bundle', 'bdl-11'],
  ['unknown Bundle element', A, (b) => (b['colour'] = 'blue'), () => 'Bundle.colour'],
  ['unknown element in a Patient', A, (b) => (entryOf(b, 'Patient')['nickname'] = 'x'), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.nickname`],
  ['missing Composition.status', A, (b) => delete b['entry'][0].resource.status, () => 'Bundle.entry[0].resource.status'],
  ['Composition.status outside its codes', A, (b) => (b['entry'][0].resource.status = 'final draft'), () => 'Bundle.entry[0].resource.status'],
  ['missing Composition.title', A, (b) => delete b['entry'][0].resource.title, () => 'Bundle.entry[0].resource.title'],
  ['missing Composition.date', A, (b) => delete b['entry'][0].resource.date, () => 'Bundle.entry[0].resource.date'],
  ['bad Composition.date', A, (b) => (b['entry'][0].resource.date = '21/09/2024'), () => 'Bundle.entry[0].resource.date'],
  ['wrong Composition.type', A, (b) => (b['entry'][0].resource.type.coding[0].code = '11503-0'), () => 'Bundle.entry[0].resource.type'],
  ['missing allergies section', A, (b) => b['entry'][0].resource.section.splice(sectionIndex(b, '48765-2'), 1), () => 'Bundle.entry[0].resource.section'],
  ['missing problems section', A, (b) => b['entry'][0].resource.section.splice(sectionIndex(b, '11450-4'), 1), () => 'Bundle.entry[0].resource.section'],
  ['missing medications section', A, (b) => b['entry'][0].resource.section.splice(sectionIndex(b, '10160-0'), 1), () => 'Bundle.entry[0].resource.section'],
  ['wrong section code (problems as something else)', A, (b) => (b['entry'][0].resource.section[sectionIndex(b, '11450-4')].code.coding[0].code = '99999-9'), () => 'Bundle.entry[0].resource.section'],
  ['problems section twice (slice over its max)', A, (b) => b['entry'][0].resource.section.push(structuredClone(b['entry'][0].resource.section[sectionIndex(b, '11450-4')])), () => 'Bundle.entry[0].resource.section'],
  ['section without text', A, (b) => delete b['entry'][0].resource.section[0].text, () => 'Bundle.entry[0].resource.section[0].text'],
  ['section with neither entry nor emptyReason (ips-comp-1)', A, (b) => delete b['entry'][0].resource.section[0].entry, () => 'Bundle.entry[0].resource.section[0]', 'ips-comp-1'],
  ['section narrative not xhtml', A, (b) => (b['entry'][0].resource.section[0].text.div = 'plain text'), () => 'Bundle.entry[0].resource.section[0].text.div'],
  ['second Patient (slice patient over its max)', A, (b) => b['entry'].push({ fullUrl: 'urn:uuid:6a0f3ad4-2a8e-4fd5-9f6f-0a2b0c2a7c11', resource: entryOf(b, 'Patient') }), () => 'Bundle.entry'],
  ['no Patient (slice patient under its min)', M, (b) => b['entry'].splice(indexOf(b, 'Patient'), 1), () => 'Bundle.entry'],
  ['Patient.birthDate not a date', A, (b) => (entryOf(b, 'Patient')['birthDate'] = '1980-13-01'), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.birthDate`],
  ['Patient.gender a number', A, (b) => (entryOf(b, 'Patient')['gender'] = 1), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.gender`],
  ['Patient.name not an array', A, (b) => (entryOf(b, 'Patient')['name'] = entryOf(b, 'Patient')['name'][0]), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.name`],
  ['Patient.active an array', A, (b) => (entryOf(b, 'Patient')['active'] = [true]), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.active`],
  ['empty HumanName (ele-1)', A, (b) => (entryOf(b, 'Patient')['name'][0] = {}), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.name[0]`, 'ele-1'],
  ['Patient without name (IPS needs one)', A, (b) => delete entryOf(b, 'Patient')['name'], (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.name`],
  ['Condition without subject', A, (b) => delete entryOf(b, 'Condition')['subject'], (b) => `Bundle.entry[${indexOf(b, 'Condition')}].resource.subject`],
  ['wrong choice type for Condition.onset', A, (b) => { const c = entryOf(b, 'Condition'); delete c['onsetDateTime']; c['onsetBoolean'] = true; }, (b) => `Bundle.entry[${indexOf(b, 'Condition')}].resource.onsetBoolean`],
  ['two choices for Condition.onset', A, (b) => (entryOf(b, 'Condition')['onsetString'] = 'childhood'), (b) => `Bundle.entry[${indexOf(b, 'Condition')}].resource.onset[x]`],
  ['Condition.onsetDateTime malformed', A, (b) => (entryOf(b, 'Condition')['onsetDateTime'] = 'last spring'), (b) => `Bundle.entry[${indexOf(b, 'Condition')}].resource.onsetDateTime`],
  ['AllergyIntolerance without patient', A, (b) => delete entryOf(b, 'AllergyIntolerance')['patient'], (b) => `Bundle.entry[${indexOf(b, 'AllergyIntolerance')}].resource.patient`],
  ['MedicationStatement without status', A, (b) => delete entryOf(b, 'MedicationStatement')['status'], (b) => `Bundle.entry[${indexOf(b, 'MedicationStatement')}].resource.status`],
  ['Immunization without status', A, (b) => delete entryOf(b, 'Immunization')['status'], (b) => `Bundle.entry[${indexOf(b, 'Immunization')}].resource.status`],
  ['Immunization without occurrence', A, (b) => delete entryOf(b, 'Immunization')['occurrenceDateTime'], (b) => `Bundle.entry[${indexOf(b, 'Immunization')}].resource.occurrence[x]`],
  ['Observation without status', A, (b) => delete entryOf(b, 'Observation')['status'], (b) => `Bundle.entry[${indexOf(b, 'Observation')}].resource.status`],
  ['Observation without code', A, (b) => delete entryOf(b, 'Observation')['code'], (b) => `Bundle.entry[${indexOf(b, 'Observation')}].resource.code`],
  ['Quantity value as text', A, (b) => { const o = (b['entry'] as Json[]).map((e) => e['resource']).find((r) => r['valueQuantity']); o['valueQuantity'].value = '12.5'; }, (b) => { const i = (b['entry'] as Json[]).findIndex((e) => e['resource']['valueQuantity']); return `Bundle.entry[${i}].resource.valueQuantity.value`; }],
  ['Coding.system not a uri', A, (b) => (entryOf(b, 'Condition')['code'].coding[0].system = 'http://snomed .info'), (b) => `Bundle.entry[${indexOf(b, 'Condition')}].resource.code.coding[0].system`],
  ['Extension with neither value nor extensions (ext-1)', A, (b) => (entryOf(b, 'Patient')['extension'] = [{ url: 'http://example.org/x' }]), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.extension[0]`, 'ext-1'],
  ['entry without fullUrl in a document (bdl-7 needs unique fullUrls: duplicate)', A, (b) => (b['entry'][2].fullUrl = b['entry'][1].fullUrl), () => 'Bundle', 'bdl-7'],
  ['null inside an array', A, (b) => entryOf(b, 'Patient')['name'].push(null), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.name[${entryOf(b, 'Patient')['name'].length - 1}]`],
  ['unknown resourceType in an entry', A, (b) => (b['entry'][3].resource = { resourceType: 'Unicorn' }), () => 'Bundle.entry[3].resource'],
  ['Patient id malformed', A, (b) => (entryOf(b, 'Patient')['id'] = 'no spaces allowed'), (b) => `Bundle.entry[${indexOf(b, 'Patient')}].resource.id`],
  ['minimal: Composition.subject missing', M, (b) => delete b['entry'][0].resource.subject, () => 'Bundle.entry[0].resource.subject'],
  ['minimal: Composition.author missing', M, (b) => delete b['entry'][0].resource.author, () => 'Bundle.entry[0].resource.author'],
];
