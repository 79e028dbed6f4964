import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isResourceOf } from '../fhir/resources.js';
import { projectRoot } from '../project-root.js';

/** A person who can sign in at the demo identity provider. */
export interface DemoUser {
  /** What they type to sign in (the password of every demo user is {@link DEMO_PASSWORD}). */
  username: string;
  /** Stable subject identifier (`sub`). */
  subject: string;
  kind: 'clinician' | 'patient';
  name: string;
  givenName: string;
  familyName: string;
  /** Member State whose identity provider knows them. */
  country: string;
  /** Clinicians: ISCO-08 code of their role. */
  role?: string;
  organization?: string;
  organizationId?: string;
  /** Patients: their national identifier, `system|value`. */
  personId?: string;
}

/** The password of every demo user: the demo identity provider is a demonstration, nothing more. */
export const DEMO_PASSWORD = 'demo';

/** Demo clinicians by country: a doctor, a pharmacist and a nurse, with ISCO-08 roles. */
const CLINICIANS: Record<string, Array<Omit<DemoUser, 'subject' | 'kind' | 'country' | 'name'>>> = {
  AT: [
    { username: 'doctor', givenName: 'Eva', familyName: 'Berger', role: '2211', organization: 'Landeskrankenhaus Salzburg', organizationId: 'urn:oid:1.2.40.0.34.99.4613.3.1' },
    { username: 'pharmacist', givenName: 'Karl', familyName: 'Steiner', role: '2262', organization: 'Apotheke am Graben, Wien', organizationId: 'urn:oid:1.2.40.0.34.99.4613.3.2' },
    { username: 'nurse', givenName: 'Sabine', familyName: 'Wimmer', role: '2221', organization: 'Landeskrankenhaus Salzburg', organizationId: 'urn:oid:1.2.40.0.34.99.4613.3.1' },
  ],
  PT: [
    { username: 'doctor', givenName: 'Inês', familyName: 'Costa', role: '2211', organization: 'Hospital de Santa Maria, Lisboa', organizationId: 'urn:oid:2.16.620.1.101.10.3.1' },
    { username: 'pharmacist', givenName: 'Rui', familyName: 'Almeida', role: '2262', organization: 'Farmácia Central, Porto', organizationId: 'urn:oid:2.16.620.1.101.10.3.2' },
    { username: 'nurse', givenName: 'Carla', familyName: 'Ferreira', role: '2221', organization: 'Hospital de Santa Maria, Lisboa', organizationId: 'urn:oid:2.16.620.1.101.10.3.1' },
  ],
};

const GENERIC: Array<Omit<DemoUser, 'subject' | 'kind' | 'country' | 'name'>> = [
  { username: 'doctor', givenName: 'Demo', familyName: 'Doctor', role: '2211', organization: 'Demo Hospital' },
  { username: 'pharmacist', givenName: 'Demo', familyName: 'Pharmacist', role: '2262', organization: 'Demo Pharmacy' },
  { username: 'nurse', givenName: 'Demo', familyName: 'Nurse', role: '2221', organization: 'Demo Hospital' },
];

/** A sign-in name from a person's names: lower case ASCII, `given.family`. */
function usernameOf(given: string, family: string): string {
  const ascii = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/ı/g, 'i')
      .toLowerCase()
      .replace(/[^a-z]/g, '');
  return `${ascii(given)}.${ascii(family)}`;
}

/**
 * The demo users of a country: its clinicians, and the seed patients of `seed/<country>/` (each
 * signs in as `given.family`, e.g. `anna.gruber`).
 */
export function demoUsers(country: string): DemoUser[] {
  const clinicians = (CLINICIANS[country] ?? GENERIC.map((c) => ({ ...c, organization: `${c.organization} ${country}`, organizationId: `urn:oid:1.2.3.4.${country.toLowerCase()}` }))).map(
    (c): DemoUser => ({ ...c, subject: `${country.toLowerCase()}-${c.username}`, kind: 'clinician', country, name: `${c.givenName} ${c.familyName}` }),
  );
  const folder = join(projectRoot(), 'seed', country);
  let files: string[] = [];
  try {
    files = readdirSync(folder).filter((f) => f.endsWith('.json'));
  } catch {
    // A country without seed documents has clinicians only.
  }
  const patients = files.flatMap((file): DemoUser[] => {
    const bundle: unknown = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    const entries = isResourceOf(bundle, 'Bundle') ? (bundle.entry ?? []) : [];
    const patient = entries.map((e) => e.resource).find((r) => isResourceOf(r, 'Patient'));
    const identifier = patient?.identifier?.[0];
    const name = patient?.name?.[0];
    if (!identifier?.system || !identifier.value || !name?.family || !name.given?.[0]) return [];
    return [
      {
        username: usernameOf(name.given[0], name.family),
        subject: `${country.toLowerCase()}-patient-${file.replace(/\.json$/, '')}`,
        kind: 'patient',
        name: `${name.given.join(' ')} ${name.family}`,
        givenName: name.given.join(' '),
        familyName: name.family,
        country,
        personId: `${identifier.system}|${identifier.value}`,
      },
    ];
  });
  return [...clinicians, ...patients];
}
