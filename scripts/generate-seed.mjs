#!/usr/bin/env node
// Generates the demo IPS documents in seed/<country>/ (fictitious people). Run it after editing
// the patients below: `node scripts/generate-seed.mjs`. Output is deterministic (fixed UUIDs).
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Deterministic UUID from a name, so regenerating gives the same files. */
function uuid(name) {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Austrian social security number: 3 serial digits, check digit, birth date DDMMYY. */
function svnr(serial, birthDate) {
  const [y, m, d] = birthDate.split('-');
  const digits = `${serial}0${d}${m}${y.slice(2)}`.split('').map(Number);
  const weights = [3, 7, 9, 0, 5, 8, 4, 2, 1, 6];
  const check = digits.reduce((sum, n, i) => sum + n * weights[i], 0) % 11;
  if (check === 10) throw new Error(`serial ${serial} gives no valid SVNR for ${birthDate}`);
  digits[3] = check;
  return digits.join('');
}

const SYSTEMS = {
  AT: { national: 'urn:oid:1.2.40.0.10.1.4.3.1', documents: 'urn:oid:1.2.40.0.34.99.4613.1' },
  PT: { national: 'urn:oid:2.16.620.1.101.10.1.1', documents: 'urn:oid:2.16.620.1.101.10.4.1' },
};

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const ATC = 'http://www.whocc.no/atc';

const patients = [
  {
    country: 'AT', key: 'at-anna-gruber', serial: '123', family: 'Gruber', given: ['Anna', 'Maria'], gender: 'female', birthDate: '1958-03-14',
    city: 'Wien', postalCode: '1090', line: 'Währinger Straße 12', language: 'de-AT', phone: '+43 1 4000 1234',
    author: { family: 'Huber', given: 'Josef', prefix: 'Dr.' }, org: 'Allgemeines Krankenhaus Wien', timestamp: '2026-10-02T09:15:00+02:00',
    allergy: { code: '91936005', display: 'Allergy to penicillin', criticality: 'high', reaction: { code: '271807003', display: 'Eruption of skin' } },
    problems: [
      { code: '44054006', display: 'Diabetes mellitus type 2', onset: '2009-05-20' },
      { code: '38341003', display: 'Hypertensive disorder', onset: '2012-11-02' },
    ],
    medications: [
      { atc: 'A10BA02', display: 'metformin', dose: '1000 mg twice daily', form: 'Tablet' },
      { atc: 'C09AA05', display: 'ramipril', dose: '5 mg once daily', form: 'Tablet' },
    ],
    immunization: { code: '1119349007', display: 'COVID-19 mRNA vaccine', date: '2025-10-15' },
    result: { loinc: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', value: 7.1, unit: '%', ucum: '%', date: '2026-09-28' },
  },
  {
    country: 'AT', key: 'at-lukas-bauer', serial: '245', family: 'Bauer', given: ['Lukas'], gender: 'male', birthDate: '1987-07-30',
    city: 'Graz', postalCode: '8010', line: 'Herrengasse 3', language: 'de-AT', phone: '+43 316 872 555',
    author: { family: 'Steiner', given: 'Eva', prefix: 'Dr.' }, org: 'LKH-Univ. Klinikum Graz', timestamp: '2026-09-12T14:40:00+02:00',
    allergy: { code: '300913006', display: 'Shellfish allergy', criticality: 'high', reaction: { code: '39579001', display: 'Anaphylaxis' } },
    problems: [{ code: '195967001', display: 'Asthma', onset: '1995-01-01' }],
    medications: [{ atc: 'R03AK06', display: 'salmeterol and fluticasone', dose: '1 inhalation twice daily', form: 'Inhalation powder' }],
    immunization: { code: '836377006', display: 'Influenza virus antigen vaccine', date: '2025-11-03' },
    result: { loinc: '19926-5', display: 'FEV1/FVC', value: 72, unit: '%', ucum: '%', date: '2026-08-20' },
  },
  {
    country: 'AT', key: 'at-fatma-yilmaz', serial: '318', family: 'Yılmaz', given: ['Fatma'], gender: 'female', birthDate: '1972-12-05',
    city: 'Linz', postalCode: '4020', line: 'Landstraße 44', language: 'de-AT', phone: '+43 732 7806 0',
    author: { family: 'Wagner', given: 'Martin', prefix: 'Dr.' }, org: 'Kepler Universitätsklinikum', timestamp: '2026-07-21T11:05:00+02:00',
    allergy: { code: '294505008', display: 'Allergy to aspirin', criticality: 'low', reaction: { code: '126485001', display: 'Urticaria' } },
    problems: [
      { code: '49436004', display: 'Atrial fibrillation', onset: '2019-03-08' },
      { code: '40930008', display: 'Hypothyroidism', onset: '2004-06-30' },
    ],
    medications: [
      { atc: 'B01AF02', display: 'apixaban', dose: '5 mg twice daily', form: 'Tablet' },
      { atc: 'H03AA01', display: 'levothyroxine sodium', dose: '75 microgram once daily', form: 'Tablet' },
    ],
    immunization: { code: '1119349007', display: 'COVID-19 mRNA vaccine', date: '2024-10-01' },
    result: { loinc: '3016-3', display: 'Thyrotropin [Units/volume] in Serum or Plasma', value: 2.4, unit: 'mIU/L', ucum: 'm[IU]/L', date: '2026-07-10' },
  },
  {
    country: 'PT', key: 'pt-joao-silva', serial: '284719365', family: 'Silva', given: ['João', 'Pedro'], gender: 'male', birthDate: '1949-02-11',
    city: 'Lisboa', postalCode: '1600-190', line: 'Avenida Lusíada 100', language: 'pt-PT', phone: '+351 21 780 5000',
    author: { family: 'Ferreira', given: 'Ana', prefix: 'Dra.' }, org: 'Hospital de Santa Maria', timestamp: '2026-10-20T10:30:00+01:00',
    allergy: { code: '293963004', display: 'Allergy to cephalosporin', criticality: 'high', reaction: { code: '271807003', display: 'Eruption of skin' } },
    problems: [
      { code: '13645005', display: 'Chronic obstructive lung disease', onset: '2011-09-14' },
      { code: '84114007', display: 'Heart failure', onset: '2020-04-02' },
    ],
    medications: [
      { atc: 'R03BB04', display: 'tiotropium bromide', dose: '18 microgram once daily', form: 'Inhalation powder' },
      { atc: 'C03CA01', display: 'furosemide', dose: '40 mg once daily', form: 'Tablet' },
    ],
    immunization: { code: '836398006', display: 'Pneumococcal vaccine', date: '2024-03-12' },
    result: { loinc: '33762-6', display: 'NT-proBNP [Mass/volume] in Serum or Plasma', value: 1250, unit: 'pg/mL', ucum: 'pg/mL', date: '2026-10-15' },
  },
  {
    country: 'PT', key: 'pt-maria-santos', serial: '193847562', family: 'Santos', given: ['Maria', 'Inês'], gender: 'female', birthDate: '1990-09-23',
    city: 'Porto', postalCode: '4200-319', line: 'Alameda Prof. Hernâni Monteiro', language: 'pt-PT', phone: '+351 22 551 2100',
    author: { family: 'Costa', given: 'Rui', prefix: 'Dr.' }, org: 'Centro Hospitalar Universitário de São João', timestamp: '2026-08-05T16:20:00+01:00',
    allergy: { code: '91935009', display: 'Allergy to peanuts', criticality: 'high', reaction: { code: '39579001', display: 'Anaphylaxis' } },
    problems: [{ code: '37796009', display: 'Migraine', onset: '2008-02-01' }],
    medications: [{ atc: 'N02CC01', display: 'sumatriptan', dose: '50 mg as needed', form: 'Tablet' }],
    immunization: { code: '871878002', display: 'Hepatitis B virus antigen vaccine', date: '2010-05-20' },
    result: { loinc: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', value: 12.9, unit: 'g/dL', ucum: 'g/dL', date: '2026-07-30' },
  },
  {
    country: 'PT', key: 'pt-tiago-oliveira', serial: '307561928', family: 'Oliveira', given: ['Tiago'], gender: 'male', birthDate: '1966-05-02',
    city: 'Coimbra', postalCode: '3004-561', line: 'Praceta Prof. Mota Pinto', language: 'pt-PT', phone: '+351 239 400 400',
    author: { family: 'Almeida', given: 'Sofia', prefix: 'Dra.' }, org: 'Centro Hospitalar e Universitário de Coimbra', timestamp: '2026-06-18T09:00:00+01:00',
    allergy: { code: '418689008', display: 'Allergy to grass pollen', criticality: 'low', reaction: { code: '21719001', display: 'Allergic rhinitis' } },
    problems: [
      { code: '431855005', display: 'Chronic kidney disease stage 1', onset: '2018-10-10' },
      { code: '55822004', display: 'Hyperlipidemia', onset: '2015-01-22' },
    ],
    medications: [{ atc: 'C10AA05', display: 'atorvastatin', dose: '20 mg once daily', form: 'Tablet' }],
    immunization: { code: '863911006', display: 'Tetanus and diphtheria vaccine', date: '2021-09-09' },
    result: { loinc: '2160-0', display: 'Creatinine [Mass/volume] in Serum or Plasma', value: 1.3, unit: 'mg/dL', ucum: 'mg/dL', date: '2026-06-01' },
  },
];

const html = (text) => `<div xmlns="http://www.w3.org/1999/xhtml">${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</div>`;

function documentFor(p) {
  const systems = SYSTEMS[p.country];
  const nationalId = p.country === 'AT' ? svnr(p.serial, p.birthDate) : p.serial;
  const id = (what) => uuid(`${p.key}/${what}`);
  const url = (what) => `urn:uuid:${id(what)}`;
  const entries = [];
  const add = (what, resource) => {
    entries.push({ fullUrl: url(what), resource: { id: id(what), ...resource } });
    return { reference: url(what) };
  };
  const patientRef = { reference: url('patient') };

  add('patient', {
    resourceType: 'Patient',
    meta: { profile: ['http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips'] },
    identifier: [{ system: systems.national, value: nationalId }],
    name: [{ family: p.family, given: p.given }],
    telecom: [{ system: 'phone', value: p.phone, use: 'home' }],
    gender: p.gender,
    birthDate: p.birthDate,
    address: [{ line: [p.line], city: p.city, postalCode: p.postalCode, country: p.country }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: p.language }] }, preferred: true }],
  });
  const author = add('author', {
    resourceType: 'Practitioner',
    name: [{ family: p.author.family, given: [p.author.given], prefix: [p.author.prefix] }],
  });
  const org = add('organization', {
    resourceType: 'Organization',
    name: p.org,
    address: [{ city: p.city, country: p.country }],
  });

  const allergy = add('allergy', {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
    type: 'allergy',
    criticality: p.allergy.criticality,
    code: { coding: [{ system: SCT, code: p.allergy.code, display: p.allergy.display }] },
    patient: patientRef,
    reaction: [{ manifestation: [{ coding: [{ system: SCT, code: p.allergy.reaction.code, display: p.allergy.reaction.display }] }] }],
  });
  const problems = p.problems.map((c, i) =>
    add(`problem-${i}`, {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      category: [{ coding: [{ system: LOINC, code: '75326-9', display: 'Problem' }] }],
      code: { coding: [{ system: SCT, code: c.code, display: c.display }] },
      subject: patientRef,
      onsetDateTime: c.onset,
    }),
  );
  const medications = p.medications.map((m, i) => {
    const medication = add(`medication-${i}`, {
      resourceType: 'Medication',
      code: { coding: [{ system: ATC, code: m.atc, display: m.display }] },
      form: { text: m.form },
    });
    return add(`medication-statement-${i}`, {
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationReference: medication,
      subject: patientRef,
      effectivePeriod: { start: p.problems[0].onset },
      dosage: [{ text: m.dose }],
    });
  });
  const immunization = add('immunization', {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { coding: [{ system: SCT, code: p.immunization.code, display: p.immunization.display }] },
    patient: patientRef,
    occurrenceDateTime: p.immunization.date,
  });
  const result = add('result', {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: LOINC, code: p.result.loinc, display: p.result.display }] },
    subject: patientRef,
    effectiveDateTime: p.result.date,
    performer: [org],
    valueQuantity: { value: p.result.value, unit: p.result.unit, system: 'http://unitsofmeasure.org', code: p.result.ucum },
  });

  const section = (title, code, display, refs, text) => ({
    title,
    code: { coding: [{ system: LOINC, code, display }] },
    text: { status: 'generated', div: html(text) },
    entry: refs,
  });
  const emptySection = (title, code, display, text) => ({
    title,
    code: { coding: [{ system: LOINC, code, display }] },
    text: { status: 'generated', div: html(text) },
    emptyReason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'nilknown', display: 'Nil Known' }] },
  });
  const composition = {
    resourceType: 'Composition',
    id: id('composition'),
    language: p.language,
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: patientRef,
    date: p.timestamp,
    author: [author],
    title: `Patient Summary (${p.country})`,
    confidentiality: 'N',
    custodian: org,
    section: [
      section('Allergies and Intolerances', '48765-2', 'Allergies and adverse reactions Document', [allergy], `${p.allergy.display} (${p.allergy.criticality} criticality)`),
      section('Problem List', '11450-4', 'Problem list - Reported', problems, p.problems.map((c) => c.display).join('; ')),
      section('Medication Summary', '10160-0', 'History of Medication use Narrative', medications, p.medications.map((m) => `${m.display}: ${m.dose}`).join('; ')),
      section('Immunizations', '11369-6', 'History of Immunization Narrative', [immunization], `${p.immunization.display} on ${p.immunization.date}`),
      section('Results', '30954-2', 'Relevant diagnostic tests/laboratory data Narrative', [result], `${p.result.display}: ${p.result.value} ${p.result.unit}`),
      // Required by the EU Patient Summary: said to be empty, with the reason.
      emptySection('History of Procedures', '47519-4', 'History of Procedures Document', 'No known procedures'),
      emptySection('Medical Devices', '46264-8', 'History of medical device use', 'No known medical devices'),
    ],
  };
  return {
    resourceType: 'Bundle',
    id: id('bundle'),
    meta: { profile: ['http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips'] },
    language: p.language,
    identifier: { system: systems.documents, value: id('document') },
    type: 'document',
    timestamp: p.timestamp,
    entry: [{ fullUrl: url('composition'), resource: composition }, ...entries],
  };
}

for (const country of Object.keys(SYSTEMS)) rmSync(join(ROOT, 'seed', country), { recursive: true, force: true });
for (const p of patients) {
  const dir = join(ROOT, 'seed', p.country);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${p.key}.json`), `${JSON.stringify(documentFor(p), null, 2)}\n`);
}
process.stdout.write(`wrote ${patients.length} documents to seed/\n`);
