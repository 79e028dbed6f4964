import { allSections, minimal, type Json } from '../support/test-node.js';

/**
 * Documents that exercise the rule classes where the validator and the HL7 reference validator
 * used to disagree (issue 14), each with the verdict the R4 and IPS rules give. They are the
 * tests of those rules (rule-classes.test.ts) and part of the conformance corpus
 * (npm run conformance), so each case says which rule class it belongs to.
 */
export interface RuleCase {
  name: string;
  ruleClass: RuleClass;
  base: () => Json;
  mutate: (bundle: Json) => void;
  /** Whether the document is valid (no errors) under the rule. */
  valid: boolean;
  /** For an invalid document: the FHIRPath where an error must be reported. */
  at?: (bundle: Json) => string;
  /** For an invalid document: the constraint key of that error, when there is one. */
  key?: string;
  /** For a valid document: the FHIRPath where a warning must be reported, when the rule warns. */
  warningAt?: (bundle: Json) => string;
}

export type RuleClass = 'narrative' | 'references' | 'vital-signs' | 'identifiers' | 'codings' | 'narrative-links' | 'slicing' | 'extensions';

const XHTML = 'http://www.w3.org/1999/xhtml';
const div = (inner: string): string => `<div xmlns="${XHTML}">${inner}</div>`;
const entryIndex = (b: Json, type: string): number => (b['entry'] as Json[]).findIndex((e) => e['resource']['resourceType'] === type);
const resourceOf = (b: Json, type: string): Json => (b['entry'] as Json[])[entryIndex(b, type)]!['resource'] as Json;
const at = (type: string, rest = '') => (b: Json): string => `Bundle.entry[${entryIndex(b, type)}].resource${rest}`;
const sectionIndex = (b: Json, loinc: string): number => (b['entry'][0].resource.section as Json[]).findIndex((s) => s['code'].coding[0].code === loinc);

/** Replaces a fullUrl and every reference to it, as a producer that chose another one would write it. */
function renameFullUrl(bundle: Json, from: string, to: string): void {
  const json = JSON.stringify(bundle).split(JSON.stringify(from)).join(JSON.stringify(to));
  Object.assign(bundle, JSON.parse(json));
}

/** Every entry addressed RESTfully (`http://example.org/fhir/<type>/<id>`), references written relative. */
function restful(bundle: Json): void {
  for (const entry of bundle['entry'] as Json[]) {
    const r = entry['resource'] as Json;
    const relative = `${String(r['resourceType'])}/${String(r['id'])}`;
    renameFullUrl(bundle, entry['fullUrl'] as string, `http://example.org/fhir/${relative}`);
  }
  for (const entry of bundle['entry'] as Json[]) entry['resource'] = JSON.parse(JSON.stringify(entry['resource']).replace(/"reference":"http:\/\/example\.org\/fhir\//g, '"reference":"'));
}

const PATIENT_URL = 'urn:uuid:244ad7c3-beeb-41d1-8a2f-c76b8cf720ad';

/** A vital-signs section with one Observation, added to the minimal document. */
function withVitalSign(observation: Json): (b: Json) => void {
  return (b) => {
    const fullUrl = 'urn:uuid:5f3b2d7c-9a41-4c6e-8d2f-0b1a2c3d4e5f';
    b['entry'].push({ fullUrl, resource: { resourceType: 'Observation', id: '5f3b2d7c-9a41-4c6e-8d2f-0b1a2c3d4e5f', ...observation } });
    b['entry'][0].resource.section.push({
      title: 'Vital signs',
      code: { coding: [{ system: 'http://loinc.org', code: '8716-3', display: 'Vital signs' }] },
      text: { status: 'generated', div: div('<p>Vital signs</p>') },
      entry: [{ reference: fullUrl }],
    });
  };
}

const vitalSign = (code: string, display: string, rest: Json): Json => ({
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code, display }] },
  subject: { reference: PATIENT_URL },
  effectiveDateTime: '2024-05-01T10:00:00Z',
  ...rest,
});
const heartRate = (rest: Json = {}): Json => vitalSign('8867-4', 'Heart rate', { valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' }, ...rest });
const UCUM = 'http://unitsofmeasure.org';
const bpComponent = (code: string, value: number): Json => ({ code: { coding: [{ system: 'http://loinc.org', code }] }, valueQuantity: { value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } });

const M = minimal;
const A = allSections;
const patientText = (inner: string) => (b: Json): void => {
  resourceOf(b, 'Patient')['text'] = { status: 'generated', div: inner };
};

type Row = [string, () => Json, (b: Json) => void, boolean, ((b: Json) => string)?, string?, ((b: Json) => string)?];

const groups: [RuleClass, Row[]][] = [
  // Narrative XHTML: txt-1 (only basic XHTML, no active content) and txt-2 (some content).
  ['narrative', [
  ['narrative with a script element', M, patientText(div('<p>Martha</p><script>alert(1)</script>')), false, at('Patient', '.text.div'), 'txt-1'],
  ['narrative with an event attribute', M, patientText(div('<p onclick="steal()">Martha</p>')), false, at('Patient', '.text.div'), 'txt-1'],
  ['narrative with a form and an input', M, patientText(div('<form action="x"><input name="q"/></form>')), false, at('Patient', '.text.div'), 'txt-1'],
  ['narrative with an idref attribute', M, patientText(div('<span idref="x">Martha</span>')), false, at('Patient', '.text.div'), 'txt-1'],
  ['narrative with an iframe', M, patientText(div('<iframe src="http://example.org/"></iframe><p>x</p>')), false, at('Patient', '.text.div'), 'txt-1'],
  ['narrative that is only white space', M, patientText(div('  ')), false, at('Patient', '.text.div'), 'txt-2'],
  ['narrative that is an empty paragraph', M, patientText(div('<p> </p>')), false, at('Patient', '.text.div'), 'txt-2'],
  ['narrative outside the XHTML namespace', M, patientText('<div><p>Martha</p></div>'), false, at('Patient', '.text.div')],
  ['narrative that is not well-formed', M, patientText(div('<p>Martha<b>DeLarosa</p>')), false, at('Patient', '.text.div')],
  ['narrative whose root is not a div', M, patientText(`<p xmlns="${XHTML}">Martha</p>`), false, at('Patient', '.text.div')],
  ['section narrative with a script', M, (b) => (b['entry'][0].resource.section[0].text.div = div('<p>x</p><script src="x.js"></script>')), false, () => 'Bundle.entry[0].resource.section[0].text.div', 'txt-1'],
  ['narrative with tables, styles, links, images and entities (allowed)', M, patientText(div('<table class="grid"><tr><th colspan="2" style="color: red">A &amp; B &lt;&#169;&gt;</th></tr><tr><td rowspan="1">x</td><td><a href="http://example.org/a">link</a><img src="http://example.org/logo.png" alt="logo"/></td></tr></table><!-- a comment --><br/>')), true],
  ['narrative with an image of a contained resource that is not there', M, patientText(div('<p>Martha</p><img src="#photo" alt="photo"/>')), false, at('Patient', '.text.div')],
  ['narrative with only an image (allowed)', M, patientText(div('<img src="data:image/png;base64,iVBORw0KGgo=" alt="chart"/>')), true],

  ]],
  // References inside a Bundle (R4 "Resolving references in Bundles").
  ['references', [
  ['relative reference from an entry addressed by urn:uuid', M, (b) => (b['entry'][0].resource.subject = { reference: 'Patient/244ad7c3-beeb-41d1-8a2f-c76b8cf720ad' }), false, () => 'Bundle.entry[0].resource.subject.reference'],
  ['fullUrl that is not absolute', M, (b) => renameFullUrl(b, 'urn:uuid:a21fe796-3594-4ad9-a01e-cc83118ceca9', 'Organization/a21fe796-3594-4ad9-a01e-cc83118ceca9'), false, (b) => `Bundle.entry[${entryIndex(b, 'Organization')}].fullUrl`],
  ['reference to an entry that is not in the document', M, (b) => (resourceOf(b, 'Condition')['subject'] = { reference: 'urn:uuid:0b6e4b86-57a7-4b27-9b1e-3d4c5b6a7f80' }), false, at('Condition', '.subject.reference')],
  ['relative references between RESTful fullUrls (allowed)', M, restful, true],
  ['an entry no reference reaches', M, (b) => b['entry'].push({ fullUrl: 'urn:uuid:7c2f7c1e-0f3a-4b59-9e0a-4a2b1c0d9e8f', resource: { resourceType: 'Organization', id: '7c2f7c1e-0f3a-4b59-9e0a-4a2b1c0d9e8f', name: 'Nobody refers to me' } }), false, (b) => `Bundle.entry[${b['entry'].length - 1}]`],
  ['an entry that only refers to the Composition (reachable backwards: allowed)', M, (b) => b['entry'].push({ fullUrl: 'urn:uuid:8d3e8d2f-1a4b-4c6a-8f1b-5b3c2d1e0f9a', resource: { resourceType: 'Provenance', id: '8d3e8d2f-1a4b-4c6a-8f1b-5b3c2d1e0f9a', target: [{ reference: 'urn:uuid:f40b07e3-37e8-48c3-bf1c-ae70fe12dab0' }], recorded: '2024-05-01T10:00:00Z', agent: [{ who: { reference: 'urn:uuid:45271f7f-63ab-4946-970f-3daaaa06637f' } }] } }), true],

  ]],
  // Vital-signs profiles apply to every Observation with their LOINC code.
  ['vital-signs', [
  ['heart rate as R4 says (allowed)', M, withVitalSign(heartRate()), true],
  ['heart rate in a unit that is not /min', M, withVitalSign(heartRate({ valueQuantity: { value: 72, unit: 'bpm', system: UCUM, code: '{beats}/min' } })), false, (b) => `Bundle.entry[${b['entry'].length - 1}].resource.valueQuantity.code`],
  ['heart rate without the vital-signs category', M, withVitalSign(heartRate({ category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'exam' }] }] })), false, (b) => `Bundle.entry[${b['entry'].length - 1}].resource.category`],
  ['heart rate without a time', M, withVitalSign((({ effectiveDateTime: _e, ...rest }) => rest)(heartRate())), false, (b) => `Bundle.entry[${b['entry'].length - 1}].resource.effective[x]`],
  ['body weight in a unit system other than UCUM', M, withVitalSign(vitalSign('29463-7', 'Body weight', { valueQuantity: { value: 70, unit: 'kg', system: 'http://example.org/units', code: 'kg' } })), false, (b) => `Bundle.entry[${b['entry'].length - 1}].resource.valueQuantity.system`],
  ['blood pressure without its systolic component', M, withVitalSign(vitalSign('85354-9', 'Blood pressure', { component: [bpComponent('8462-4', 80)] })), false, (b) => `Bundle.entry[${b['entry'].length - 1}].resource.component`],
  ['blood pressure with both components (allowed)', M, withVitalSign(vitalSign('85354-9', 'Blood pressure', { component: [bpComponent('8480-6', 120), bpComponent('8462-4', 80)] })), true],

  ]],
  // Identifier formats.
  ['identifiers', [
  ['urn:uuid fullUrl that is not RFC 4122', M, (b) => renameFullUrl(b, 'urn:uuid:a21fe796-3594-4ad9-a01e-cc83118ceca9', 'urn:uuid:a21fe796-3594-4ad9'), false, (b) => `Bundle.entry[${entryIndex(b, 'Organization')}].fullUrl`],
  ['urn:uuid fullUrl in upper case', M, (b) => renameFullUrl(b, 'urn:uuid:a21fe796-3594-4ad9-a01e-cc83118ceca9', 'urn:uuid:A21FE796-3594-4AD9-A01E-CC83118CECA9'), false, (b) => `Bundle.entry[${entryIndex(b, 'Organization')}].fullUrl`],
  ['urn:oid identifier system that is not an OID', M, (b) => (b['identifier'].system = 'urn:oid:2.16.724.04.8'), false, () => 'Bundle.identifier.system'],
  ['identifier in system urn:ietf:rfc:3986 whose value is no URI', M, (b) => (b['identifier'] = { system: 'urn:ietf:rfc:3986', value: '28b95815 76ce' }), false, () => 'Bundle.identifier.value'],
  ['identifier in system urn:ietf:rfc:3986 holding a urn:uuid (allowed)', M, (b) => (b['identifier'] = { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:28b95815-76ce-457b-b7ae-a972e527db40' }), true],
  ['language that is not a BCP-47 tag', M, (b) => (b['entry'][0].resource.language = 'english'), false, () => 'Bundle.entry[0].resource.language'],
  ['language with an unknown primary subtag', M, (b) => (b['entry'][0].resource.language = 'qq-ZZ'), false, () => 'Bundle.entry[0].resource.language'],
  ['languages with script and region subtags (allowed)', M, (b) => ((b['entry'][0].resource.language = 'sr-Latn-RS'), (b['language'] = 'de-AT')), true],

  ]],
  // Codings.
  ['codings', [
  ['coding whose system is a ValueSet', M, (b) => (resourceOf(b, 'Condition')['code'].coding[0].system = 'http://hl7.org/fhir/ValueSet/condition-code'), false, at('Condition', '.code.coding[0].system')],
  ['coding of a code system version that does not exist', M, (b) => (resourceOf(b, 'Condition')['clinicalStatus'].coding[0].version = '0.9.9'), false, at('Condition', '.clinicalStatus.coding[0].version')],
  ['coding of the R4 core version of a code system HL7 Terminology has taken over', M, (b) => (resourceOf(b, 'Condition')['clinicalStatus'].coding[0].version = '4.0.1'), false, at('Condition', '.clinicalStatus.coding[0].version')],
  ['coding of HL7 Terminology\'s version of a code system (allowed)', M, (b) => (resourceOf(b, 'Condition')['clinicalStatus'].coding[0].version = '3.0.0'), true],
  ['coding of an IPS 1.x code system that 2.0.0 no longer has', M, (b) => (resourceOf(b, 'AllergyIntolerance')['code'] = { coding: [{ system: 'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips', code: 'no-allergy-info' }] }), false, at('AllergyIntolerance', '.code.coding[0].system')],

  ]],
  // Narrative links and ids.
  ['narrative-links', [
  // The HL7 validator accepts these (6.9.4): reported as warnings, not refused.
  ['narrativeLink to an anchor that does not exist (warning)', M, (b) => (resourceOf(b, 'Condition')['code'].extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: '#no-such-anchor' }]), true, undefined, undefined, at('Condition', '.code.extension[0]')],
  ['originalText pointing to an anchor that does not exist (warning)', M, (b) => (resourceOf(b, 'Condition')['code'].extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/originalText', valueString: '#no-such-anchor' }]), true, undefined, undefined, at('Condition', '.code.extension[0]')],
  ['originalText on a primitive pointing to an anchor that does not exist (warning)', M, (b) => {
    resourceOf(b, 'Condition')['code'].text = 'Menopausal flushing';
    resourceOf(b, 'Condition')['code']._text = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/originalText', valueString: '#no-such-anchor' }] };
  }, true, undefined, undefined, at('Condition', '.code.text.extension[0]')],
  ['duplicate ids in a narrative (warning)', M, patientText(div('<p id="name">Martha</p><p id="name">DeLarosa</p>')), true, undefined, undefined, at('Patient', '.text.div')],
  ['narrativeLink to an anchor in the section narrative (allowed)', M, (b) => {
    b['entry'][0].resource.section[0].text.div = div('<ul><li id="problem-1">Menopausal Flushing</li></ul>');
    resourceOf(b, 'Condition')['code'].extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: '#problem-1' }];
  }, true],

  ]],
  // Open slicing: what matches no slice is allowed.
  ['slicing', [
  ['a MedicationStatement that meets no IPS profile in the medications section (allowed)', M, (b) => {
    const statement = resourceOf(b, 'MedicationStatement');
    delete statement['effectivePeriod'];
    delete statement['effectiveDateTime'];
    statement['dateAsserted'] = '2024-05-01';
  }, true],
  ['a second MedicationStatement that meets no IPS profile (allowed)', A, (b) => {
    const statement = structuredClone(resourceOf(b, 'MedicationStatement'));
    statement['id'] = 'plain-statement';
    delete statement['effectivePeriod'];
    delete statement['effectiveDateTime'];
    // all-sections addresses its entries RESTfully and refers to them relatively
    b['entry'].push({ fullUrl: 'https://fhir.example.com/MedicationStatement/plain-statement', resource: statement });
    b['entry'][0].resource.section[sectionIndex(b, '10160-0')].entry.push({ reference: 'MedicationStatement/plain-statement' });
  }, true],

  ]],
  // Unknown extensions: a warning, never a failed slice match.
  ['extensions', [
  ['an unknown extension on the Patient (allowed)', M, (b) => (resourceOf(b, 'Patient')['extension'] = [{ url: 'http://example.org/fhir/StructureDefinition/favourite-colour', valueString: 'blue' }]), true],
  ['a national extension on the Composition (allowed)', M, (b) => (b['entry'][0].resource.extension = [{ url: 'https://fhir.example.at/StructureDefinition/at-ips-document-author-role', valueCodeableConcept: { text: 'Hausarzt' } }]), true],
  ['an unknown modifier extension on a Condition', M, (b) => (resourceOf(b, 'Condition')['modifierExtension'] = [{ url: 'http://example.org/fhir/StructureDefinition/negated', valueBoolean: true }]), false, at('Condition', '.modifierExtension[0]')],
  ]],
];

export const ruleCases: RuleCase[] = groups.flatMap(([ruleClass, rows]) =>
  rows.map(([name, base, mutate, valid, where, key, warning]) => ({
    name,
    ruleClass,
    base,
    mutate,
    valid,
    ...(where ? { at: where } : {}),
    ...(key ? { key } : {}),
    ...(warning ? { warningAt: warning } : {}),
  })),
);
