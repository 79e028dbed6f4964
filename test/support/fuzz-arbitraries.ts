import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../../src/project-root.js';

/**
 * fast-check arbitraries of everything a client can send a Pontis node: tokens of every kind
 * (honest, forged, malformed, absent), requests to every route of the node's route table (path
 * and query parameters, headers, bodies mutated from the official IPS examples and the seed
 * documents, or made up), and malformations only a raw socket can carry. Arbitraries produce
 * plain data; `fuzz-requests.ts` turns it into bytes. They depend only on the route table and the
 * files of the repository, so a seed always generates the same requests.
 */

type Json = Record<string, any>;

/** Stands for a marker in generated data; each occurrence becomes a unique one when a request is built. */
export const MARKER = 'ZQMK#';
/** A built marker: the fuzzer's and nothing else's, so any one found in a log came from a client. */
export const MARKER_PATTERN = /zqmk[0-9a-f]{8}/i;
/** Every built marker in a text. */
export const MARKERS_IN = /zqmk[0-9a-f]{8}/gi;

// ---------------------------------------------------------------------------------------------
// What the repository holds: seed patients, seed documents, official examples.

/** Values of the seed patients that must never reach a log: identifiers, names, birth dates. */
export interface SeedPatient {
  country: 'AT' | 'PT';
  system: string;
  value: string;
  family: string[];
  given: string[];
  birthDate: string;
}

function patientEntry(bundle: Json): Json {
  return (bundle['entry'] as Json[]).find((e) => e['resource']?.['resourceType'] === 'Patient')!['resource'] as Json;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

let seedFiles: { country: 'AT' | 'PT'; file: string; text: string }[] | undefined;

/** The seed documents of AT and PT (seed/README.md), in file order; fresh copies. */
export function seedDocuments(): { country: 'AT' | 'PT'; file: string; bundle: Json }[] {
  seedFiles ??= (['AT', 'PT'] as const).flatMap((country) => jsonFiles(join(projectRoot(), 'seed', country)).map((file) => ({ country, file, text: readFileSync(file, 'utf8') })));
  return seedFiles.map(({ country, file, text }) => ({ country, file, bundle: JSON.parse(text) as Json }));
}

let patients: SeedPatient[] | undefined;

/** The seed patients, from their documents. */
export function seedPatients(): SeedPatient[] {
  patients ??= seedDocuments().map(({ country, bundle }) => {
    const patient = patientEntry(bundle);
    const identifier = (patient['identifier'] as Json[])[0]!;
    const names = (patient['name'] as Json[] | undefined) ?? [];
    return {
      country,
      system: identifier['system'] as string,
      value: identifier['value'] as string,
      family: names.map((n) => n['family'] as string).filter(Boolean),
      given: names.flatMap((n) => (n['given'] as string[] | undefined) ?? []),
      birthDate: patient['birthDate'] as string,
    };
  });
  return patients;
}

/** Accents removed, as the node normalises names for search. */
function plain(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/** Every seed value a log must not hold: identifier values, names (as written and without accents), birth dates. */
export function seedLogNeedles(): string[] {
  const values = new Set<string>();
  for (const p of seedPatients()) {
    values.add(p.value);
    values.add(p.birthDate);
    for (const name of [...p.family, ...p.given]) {
      values.add(name);
      values.add(plain(name));
    }
  }
  return [...values].filter((v) => v.length >= 4).sort();
}

let bases: { name: string; bundle: Json }[] | undefined;

/**
 * The official IPS 2.0.0 example documents and the seed documents: the bases that valid requests
 * are mutated from. Shared: callers clone before changing one.
 */
export function baseDocuments(): readonly { name: string; bundle: Json }[] {
  const examples = join(projectRoot(), 'profiles', 'hl7.fhir.uv.ips-2.0.0', 'package', 'example');
  bases ??= [
    ...jsonFiles(examples)
      .filter((f) => f.includes('/Bundle-'))
      .map((file) => ({ name: file.slice(examples.length + 1), bundle: JSON.parse(readFileSync(file, 'utf8')) as Json })),
    ...seedDocuments().map((d) => ({ name: `seed/${d.country}/${d.file.split('/').pop()!}`, bundle: d.bundle })),
  ];
  return bases;
}

// ---------------------------------------------------------------------------------------------
// Strings.

const SPECIALS = [
  '', ' ', '   ', '\t', '\n', '\r\n', '\u0000', 'a\u0000b', '\ud800', '\udc00x', 'x\ud83d', '\ufeff', '\u202e', '\u200b', '😀', 'é', 'ǅ', 'ß', 'İ',
  '../../etc/passwd', '..', '.', '%00', '%ZZ', '%', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '+', '&', '=', '|', '||', '|x', 'x|', '#', '?', '/', '\\',
  '$ne', '{"$gt":""}', '[$ne]', '$where', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'null', 'undefined', 'true', '-1', '0', '1e309', 'NaN', 'Infinity', '9007199254740993', '0x10', '1.0', '١٢٣',
  '<script>alert(1)</script>', "' OR '1'='1", '"; DROP TABLE x; --', '${jndi:ldap://x}', '{{7*7}}', '\r\nX-Injected: 1',
];

/** A marker somewhere in a short string. */
export const markedString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(MARKER),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}${MARKER}${b}`),
);

/** Strings that break parsers and checks: specials, full Unicode with lone surrogates, long ones; often marked. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: markedString },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...SPECIALS), markedString).map(([s, m]) => `${s}${m}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }).map((s) => `${s}${MARKER}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 5000 }).map((n) => `${MARKER}${'x'.repeat(n)}`) },
);

/** Strings made only of characters an HTTP header value may carry (visible ASCII, space, Latin-1). */
export const headerSafeString: fc.Arbitrary<string> = fc.oneof(
  markedString.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => `${s.replace(/[^\x20-\x7e]/g, '')}${MARKER}`),
  fc.constantFrom('', ' ', 'é', 'ÿ', '%00', '{"$gt":""}', '__proto__', 'W/"1"', '"1"', 'W/"999999999999"', '*'),
);

// ---------------------------------------------------------------------------------------------
// Tokens.

/** Demo issuers of seed/trust. */
export type DemoIssuer = 'idp' | 'his' | 'ncp' | 'ops';
export type Country = 'AT' | 'PT' | 'FR';

/** The options of an honestly minted demo token (mintDemoToken), before markers are built. */
export interface HonestToken {
  issuer: DemoIssuer;
  country: Country;
  scope?: string;
  subject: string;
  role?: string;
  purpose?: string;
  breakGlassReason?: string;
  homeCountry?: string;
  patient?: string;
  name?: string;
  organization?: string;
}

/** How a forged token differs from an honest one. */
export type Forgery =
  | { how: 'expired' | 'not-yet-valid' | 'issued-in-future' | 'too-long-lifetime' | 'wrong-audience' | 'bad-signature' | 'alg-none' | 'hs256' | 'unknown-kid' | 'unknown-issuer' | 'other-issuers-key' | 'self-signed' | 'embedded-jwk' | 'replayed' | 'truncated' }
  | { how: 'missing-claim'; claim: string }
  | { how: 'claim-value'; claim: string; value: unknown };

/** What a request authenticates with. `label` groups results in the report. */
export type TokenSpec =
  | { kind: 'absent'; label: 'absent' }
  | { kind: 'honest'; label: string; token: HonestToken }
  | { kind: 'forged'; label: string; token: HonestToken; forgery: Forgery }
  | { kind: 'malformed'; label: 'malformed'; header: string; withJwt: boolean };

const SUBJECTS = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => `fuzz-user-${n}`) }, { weight: 1, arbitrary: nastyString });
const ISCO = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('221', '2211', '2212', '2221', '2222', '2261', '2262') },
  { weight: 2, arbitrary: fc.constantFrom('3256', '1', '9999', '22', '0221', '22111') },
  { weight: 1, arbitrary: nastyString },
);
const PURPOSE = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('TREAT', 'ETREAT', 'BTG') },
  { weight: 2, arbitrary: fc.constantFrom('PATRQT', 'HOPERAT', 'treat', 'PUBHLTH') },
  { weight: 1, arbitrary: nastyString },
);
/** Break-glass reasons: real ones, blank ones (must count as none), hostile ones. */
const REASON = fc.option(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('unconscious on arrival', 'cardiac arrest', 'stroke') },
    { weight: 2, arbitrary: fc.constantFrom(' ', '   ', '\t\n', '\u00a0', '\u200b', '\ud800') },
    { weight: 2, arbitrary: nastyString },
  ),
  { freq: 2 },
);
const ALL_SCOPES = [
  'system/Bundle.crus', 'system/Bundle.r', 'system/Bundle.c', 'system/Patient.rs', 'system/Consent.crus', 'system/AuditEvent.rs', 'system/Consent.rs', 'system/*.cruds',
  'user/Patient.rs', 'user/Bundle.r', 'user/Bundle.cru', 'user/Consent.crus', 'user/AuditEvent.rs', 'user/*.rs',
  'patient/Patient.rs', 'patient/Bundle.r', 'patient/Consent.crus', 'patient/AuditEvent.rs', 'patient/*.r', 'openid', 'launch', 'fhirUser',
];
/** A scope claim: the issuer's default (undefined), a subset of real scopes, or junk. */
const SCOPE = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.subarray(ALL_SCOPES, { minLength: 0, maxLength: 5 }).map((s) => s.join(' ')) },
  { weight: 1, arbitrary: nastyString },
);

function seedIdentifiers(): string[] {
  return seedPatients().map((p) => `${p.system}|${p.value}`);
}

/** An honest token of each kind the node knows. */
function honestToken(): fc.Arbitrary<{ label: string; token: HonestToken }> {
  const identifiers = seedIdentifiers();
  const person = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...identifiers) },
    { weight: 1, arbitrary: fc.constant('urn:test:national|nobody') },
    { weight: 1, arbitrary: nastyString },
  );
  const foreign = fc.constantFrom<Country>('PT', 'FR');
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ country: fc.oneof({ weight: 8, arbitrary: fc.constant<Country>('AT') }, { weight: 1, arbitrary: foreign }), scope: SCOPE, subject: SUBJECTS }).map((t) => ({
        label: t.country === 'AT' ? 'hospital' : 'hospital-of-another-country',
        token: strip({ issuer: 'his', ...t, scope: t.scope ?? 'system/Bundle.crus system/Patient.rs system/Consent.crus' }),
      })),
    },
    {
      weight: 5,
      arbitrary: fc
        .record({ country: fc.oneof({ weight: 8, arbitrary: fc.constant<Country>('AT') }, { weight: 1, arbitrary: foreign }), scope: SCOPE, subject: SUBJECTS, role: ISCO, purpose: PURPOSE, breakGlassReason: REASON, name: fc.option(nastyString, { freq: 4 }) })
        .map((t) => ({ label: t.breakGlassReason !== null ? 'clinician-break-glass' : 'clinician', token: strip({ issuer: 'idp' as const, ...t }) })),
    },
    {
      weight: 4,
      arbitrary: fc
        .record({ country: fc.oneof({ weight: 6, arbitrary: foreign }, { weight: 1, arbitrary: fc.constant<Country>('AT') }), scope: SCOPE, subject: SUBJECTS, role: ISCO, purpose: PURPOSE, breakGlassReason: REASON, home: fc.option(fc.oneof(fc.constantFrom('AT', 'PT', 'FR', 'urn:oid:PT'), nastyString), { freq: 5 }) })
        .map(({ home, ...t }) => ({ label: 'peer-node-for-clinician', token: strip({ issuer: 'ncp' as const, ...t, homeCountry: home ?? t.country }) })),
    },
    {
      weight: 3,
      arbitrary: fc.record({ country: fc.oneof({ weight: 8, arbitrary: fc.constant<Country>('AT') }, { weight: 1, arbitrary: foreign }), scope: SCOPE, subject: SUBJECTS, patient: person, purpose: fc.option(PURPOSE, { freq: 3 }) }).map((t) => ({
        label: 'patient',
        token: strip({ issuer: 'idp' as const, ...t, scope: t.scope ?? 'patient/Patient.rs patient/Bundle.r patient/Consent.crus patient/AuditEvent.rs' }),
      })),
    },
    {
      weight: 2,
      arbitrary: fc.record({ country: fc.oneof({ weight: 8, arbitrary: fc.constant<Country>('AT') }, { weight: 1, arbitrary: foreign }), scope: SCOPE, subject: SUBJECTS }).map((t) => ({
        label: 'operator',
        token: strip({ issuer: 'ops', ...t, scope: t.scope ?? 'system/AuditEvent.rs system/Consent.rs' }),
      })),
    },
  );
}

/** Drops the null members fc.option produces. */
function strip(value: Record<string, unknown>): HonestToken {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as unknown as HonestToken;
}

const CLAIMS = [
  'iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'scope', 'client_id', 'nbf', 'extensions', 'extensions.ihe_iua', 'extensions.ihe_iua.subject_role', 'extensions.ihe_iua.subject_role.code',
  'extensions.ihe_iua.purpose_of_use', 'extensions.ihe_iua.purpose_of_use.code', 'extensions.ihe_iua.subject_name', 'extensions.ihe_iua.home_community_id',
  'extensions.ihe_iua.person_id', 'extensions.ihe_iua.subject_organization', 'extensions.ihe_iua.subject_organization_id', 'extensions.pontis', 'extensions.pontis.break_glass_reason',
];

const forgery: fc.Arbitrary<Forgery> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom<Forgery>(
      { how: 'expired' }, { how: 'not-yet-valid' }, { how: 'issued-in-future' }, { how: 'too-long-lifetime' }, { how: 'wrong-audience' }, { how: 'bad-signature' }, { how: 'alg-none' },
      { how: 'hs256' }, { how: 'unknown-kid' }, { how: 'unknown-issuer' }, { how: 'other-issuers-key' }, { how: 'self-signed' }, { how: 'embedded-jwk' }, { how: 'replayed' }, { how: 'truncated' },
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...CLAIMS).map((claim): Forgery => ({ how: 'missing-claim', claim })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...CLAIMS), fc.oneof(nastyString, fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, 0, -1, 1e300, [], {}, true, 'AT', 'urn:oid:AT')))
      .map(([claim, value]): Forgery => ({ how: 'claim-value', claim, value })),
  },
);

/** Authorization header values that are no token at all (the header is still header-safe). */
const malformedHeader: fc.Arbitrary<{ header: string; withJwt: boolean }> = fc.oneof(
  fc.constantFrom('Bearer', 'Bearer ', 'Bearer  ', 'bearer', 'Basic dXNlcjpwYXNz', 'Digest x', 'Bearer a.b.c', 'Bearer ..', 'Bearer e30.e30.', 'Token abc', 'NTLM x').map((header) => ({ header, withJwt: false })),
  headerSafeString.map((s) => ({ header: `Bearer ${s}`, withJwt: false })),
  headerSafeString.map((s) => ({ header: s, withJwt: false })),
  fc.base64String({ maxLength: 120 }).map((s) => ({ header: `Bearer eyJ${s.replace(/[+/=]/g, '')}.eyJ${MARKER}.x`, withJwt: true })),
  fc.integer({ min: 4000, max: 12_000 }).map((n) => ({ header: `Bearer eyJ${'A'.repeat(n)}${MARKER}`, withJwt: true })),
  fc.constantFrom('jwt-and-extra', 'two-tokens', 'lowercase-scheme', 'padded').map((shape) => ({ header: `@${shape}`, withJwt: true })),
);

let tokens: fc.Arbitrary<TokenSpec> | undefined;

/** Every kind of Authorization a request may carry, honest ones most often. */
export function tokenSpec(): fc.Arbitrary<TokenSpec> {
  const honest = honestToken();
  return (tokens ??= fc.oneof(
    { weight: 14, arbitrary: honest.map(({ label, token }): TokenSpec => ({ kind: 'honest', label, token })) },
    { weight: 4, arbitrary: fc.tuple(honest, forgery).map(([{ token }, f]): TokenSpec => ({ kind: 'forged', label: `forged:${f.how}`, token, forgery: f })) },
    { weight: 2, arbitrary: malformedHeader.map((m): TokenSpec => ({ kind: 'malformed', label: 'malformed', ...m })) },
    { weight: 1, arbitrary: fc.constant<TokenSpec>({ kind: 'absent', label: 'absent' }) },
  ));
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** A reference to something the node holds, resolved when the request is built (ids are assigned by the node). */
export type IdRef =
  | { ref: 'patient' | 'bundle' | 'consent'; index: number }
  | { ref: 'literal'; value: string };

/** Where a path parameter's value comes from. */
export type ParamValue = IdRef | { ref: 'version'; of: 'bundle' | 'consent'; index: number; offset: number } | { ref: 'type'; value: string };

/** A change to a JSON document; `at` picks a member (modulo the number of members). */
export type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'mark'; at: number }
  | { op: 'duplicate'; at: number }
  | { op: 'wrap'; at: number }
  | { op: 'set-key'; at: number; key: string; value: unknown };

/** A request body, as data. */
export type BodySpec =
  | { kind: 'document'; base: number; identity: 'fresh' | 'keep' | 'seed-patient' | 'new-patient'; patient: number; timestamp: 'keep' | 'now' | 'old'; mutations: Mutation[]; matchUrlId: boolean }
  | { kind: 'consent'; patient: IdRef; provision: number; status: string; mutations: Mutation[]; matchUrlId: boolean }
  | { kind: 'validate'; wrap: boolean; inner: BodySpec; profile: string | null }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'truncated'; inner: BodySpec; keep: number }
  /** The resource as stored under the URL's id, changed a little (`timestamp`) or not at all. */
  | { kind: 'current'; change: 'timestamp' | 'none' | 'mark' };

/** One request, as data: built into bytes by `fuzz-requests.ts`. */
export interface RequestSpec {
  token: TokenSpec;
  method: string;
  /** The route's path template (`/fhir/Patient/{id}`), or a made-up path. */
  template: string;
  params: Record<string, ParamValue>;
  /** Query parameters in order (names may repeat); `raw` leaves them unencoded where possible. */
  query: [string, string][];
  rawQuery: boolean;
  headers: [string, string][];
  body: BodySpec | null;
  contentType: string | null;
  /** For updates: `If-Match` from the resource's current version (offset added), or given. */
  ifMatch: { of: 'bundle' | 'consent'; index: number; offset: number } | { value: string } | null;
  /** Sent over a real socket (otherwise through hapi's inject). */
  socket: boolean;
  /** Malformations of the HTTP message itself (socket only). */
  raw: RawMutation | null;
}

/** Malformations only a raw socket can send; the node's HTTP parser answers most of them. */
export type RawMutation =
  | { kind: 'bad-method'; method: string }
  | { kind: 'bad-version'; version: string }
  | { kind: 'oversized-header'; bytes: number }
  | { kind: 'many-headers'; count: number }
  | { kind: 'header-without-colon' }
  | { kind: 'bad-header-name'; name: string }
  | { kind: 'folded-header' }
  | { kind: 'content-length-and-chunked' }
  | { kind: 'two-content-lengths' }
  | { kind: 'bad-chunk' }
  | { kind: 'chunked' }
  | { kind: 'raw-bytes-in-path'; bytes: number[] }
  | { kind: 'bare-lf' }
  | { kind: 'body-never-finishes'; missing: number; waitMs: number }
  | { kind: 'headers-never-finish'; waitMs: number }
  | { kind: 'pipelined' }
  | { kind: 'http10' }
  | { kind: 'absolute-form' }
  | { kind: 'expect-continue' }
  | { kind: 'invalid-utf8-body' }
  | { kind: 'garbage'; bytes: number[] };

/** A route of the node's table: method, path template, and the query parameters its schema names. */
export interface RouteShape {
  method: string;
  path: string;
  queryKeys: string[];
  /** Takes a body (a route with payload options). */
  body: boolean;
  /** Answers without a token (`auth: false`). */
  open: boolean;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'REPORT', 'LOCK'];
const RESOURCE_TYPES = ['Bundle', 'Patient', 'Consent', 'AuditEvent', 'Observation', 'Composition', 'Parameters', 'OperationOutcome', 'Binary', 'patient', 'Foo', 'A'];
const PROFILES = [
  'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips',
  'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips|2.0.0',
  'http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips',
  'http://hl7.org/fhir/StructureDefinition/Consent',
  'http://example.org/StructureDefinition/unknown',
];

function idRef(kind: 'patient' | 'bundle' | 'consent'): fc.Arbitrary<IdRef> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.nat(40).map((index): IdRef => ({ ref: kind, index })) },
    { weight: 1, arbitrary: fc.constantFrom('unknown-id', 'a', 'A'.repeat(64), 'A'.repeat(65), '-', '.', '..', 'x.y-z').map((value): IdRef => ({ ref: 'literal', value })) },
    { weight: 2, arbitrary: nastyString.map((value): IdRef => ({ ref: 'literal', value })) },
  );
}

/** A value for a path parameter, chosen by the parameter's name and the path it is in. */
function pathParam(path: string, name: string): fc.Arbitrary<ParamValue> {
  const resource = /\/fhir\/(Bundle|Patient|Consent)\//.exec(path)?.[1]?.toLowerCase() as 'bundle' | 'patient' | 'consent' | undefined;
  if (name === 'vid') {
    const of = resource === 'consent' ? 'consent' : 'bundle';
    return fc.oneof(
      { weight: 4, arbitrary: fc.record({ index: fc.nat(40), offset: fc.integer({ min: -2, max: 1 }) }).map(({ index, offset }): ParamValue => ({ ref: 'version', of, index, offset })) },
      { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1.5', '1e3', '9999999999', 'abc').map((value): ParamValue => ({ ref: 'literal', value })) },
      { weight: 1, arbitrary: nastyString.map((value): ParamValue => ({ ref: 'literal', value })) },
    );
  }
  if (name === 'type') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...RESOURCE_TYPES).map((value): ParamValue => ({ ref: 'type', value })) },
      { weight: 1, arbitrary: nastyString.map((value): ParamValue => ({ ref: 'literal', value })) },
    );
  }
  return idRef(resource ?? 'patient');
}

/** Identifiers for searches and `$summary`: seed patients of AT (here) and PT (abroad), others, junk. */
function identifierValue(): fc.Arbitrary<string> {
  const seeds = seedIdentifiers();
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...seeds) },
    { weight: 1, arbitrary: fc.constantFrom('urn:oid:2.16.620.1.101.10.1.1|999999999', 'urn:oid:1.2.250.1.213.1.4.8|1234', 'urn:test:national|x', '|1238140358', 'urn:oid:1.2.40.0.10.1.4.3.1|', '1238140358') },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('urn:oid:1.2.40.0.10.1.4.3.1', 'urn:oid:2.16.620.1.101.10.1.1', 'urn:test'), nastyString).map(([s, v]) => `${s}|${v}`) },
    { weight: 1, arbitrary: nastyString },
  );
}

/** A value for a query parameter, by its name. */
function queryValue(name: string): fc.Arbitrary<string> {
  const names = seedPatients();
  const known: Record<string, fc.Arbitrary<string>> = {
    identifier: identifierValue(),
    patient: fc.oneof(fc.constant('@patient'), fc.constant('Patient/@patient'), nastyString),
    family: fc.oneof(fc.constantFrom(...names.flatMap((p) => p.family)), fc.constantFrom('gru', 'Ö', '.*', '^', '(', 'a'.repeat(101)), nastyString),
    given: fc.oneof(fc.constantFrom(...names.flatMap((p) => p.given)), nastyString),
    birthdate: fc.oneof(fc.constantFrom(...names.map((p) => p.birthDate)), fc.constantFrom('1958', '1958-03', 'ge1950', 'lt2000-01-01', 'eq1958-03-14', 'xx1958', '1958-13-45', '19580314'), nastyString),
    gender: fc.oneof(fc.constantFrom('male', 'female', 'other', 'unknown', 'MALE', ''), nastyString),
    _count: fc.oneof(fc.constantFrom('1', '10', '100', '500', '501', '0', '-1', '1.5', '1e2', 'abc'), nastyString),
    _offset: fc.oneof(fc.constantFrom('0', '1', '20', '10000', '10001', '-1', 'x'), nastyString),
    profile: fc.oneof(fc.constantFrom(...PROFILES), nastyString),
    mode: fc.oneof(fc.constantFrom('full', 'create', 'update', 'delete', 'normative', 'terminology'), nastyString),
    _format: fc.constantFrom('json', 'application/fhir+json', 'application/json', 'xml', 'application/fhir+xml', 'text/html', 'ttl', 'JSON', ''),
    _pretty: fc.constantFrom('true', 'false', 'yes', '1', ''),
  };
  return known[name] ?? nastyString;
}

/** Query parameters: the route's own (most of them, valid or not), then extra, repeated and operator-like ones. */
function queryOf(route: RouteShape): fc.Arbitrary<[string, string][]> {
  const own = route.queryKeys.length > 0 ? fc.subarray(route.queryKeys).chain((keys) => fc.tuple(...keys.map((k) => queryValue(k).map((v): [string, string] => [k, v])))) : fc.constant([] as [string, string][]);
  const extraName = fc.oneof(
    fc.constantFrom('_format', '_pretty', '_elements', '_summary', '_sort', 'identifier[$ne]', 'identifier.$gt', '__proto__', 'constructor', '__proto__[x]', 'a[b][c]', '_count', 'patient:missing', 'family:exact', ''),
    fc.constantFrom(...(route.queryKeys.length > 0 ? route.queryKeys : ['identifier'])),
    nastyString,
  );
  const extra = fc.array(fc.tuple(extraName, fc.oneof(nastyString, queryValue('identifier'))), { maxLength: 3 });
  return fc.tuple(own, fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, string][]) }, { weight: 1, arbitrary: extra })).map(([a, b]) => [...a, ...b]);
}

const HEADER_NAMES = ['prefer', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'if-none-match', 'if-modified-since', 'cookie', 'user-agent', 'referer', 'x-forwarded-for', 'forwarded', 'origin', 'x-http-method-override', 'content-encoding', 'x-marker', 'range', 'te'];

let headerLists: fc.Arbitrary<[string, string][]> | undefined;

/** Extra headers: content negotiation, Prefer, request ids (acceptable and not), and marked values. */
function headersOf(): fc.Arbitrary<[string, string][]> {
  if (headerLists) return headerLists;
  const accept = fc.constantFrom('application/fhir+json', 'application/json', '*/*', 'application/fhir+json; fhirVersion=4.0', 'application/fhir+xml', 'text/html', 'application/json;q=0', 'application/*', 'text/*, */*;q=0.1', '', 'garbage/;;;', 'application/fhir+json;q=abc');
  const one: fc.Arbitrary<[string, string]> = fc.oneof(
    { weight: 3, arbitrary: accept.map((v): [string, string] => ['accept', v]) },
    { weight: 2, arbitrary: fc.constantFrom('return=minimal', 'return=representation', 'return=OperationOutcome', 'return=', 'handling=strict', 'respond-async').map((v): [string, string] => ['prefer', v]) },
    // Acceptable request ids are echoed into logs by design (correlation), so they carry no marker.
    { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom('fuzz-req-1', 'a', 'A:b.c-d_e')).map((v): [string, string] => ['x-request-id', v]) },
    { weight: 1, arbitrary: headerSafeString.map((v): [string, string] => ['x-request-id', `${v} ${MARKER}/`]) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...HEADER_NAMES), headerSafeString) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x-zqmk', 'x-custom-header', 'x-patient'), headerSafeString) },
  );
  headerLists = fc.array(one, { maxLength: 4 });
  return headerLists;
}

const CONTENT_TYPES = [
  'application/fhir+json', 'application/json', 'application/fhir+json; charset=utf-8', 'application/fhir+json; fhirVersion=4.0', 'application/json; charset=iso-8859-1', 'application/fhir+json; charset=utf-16',
  'application/fhir+xml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '', 'application/fhir+json;;', 'APPLICATION/FHIR+JSON',
];

/** A body for a route, by what the route takes. */
function bodyFor(path: string, docs: number, seedCount: number): fc.Arbitrary<BodySpec> {
  const mutations = fc.array(mutation(), { maxLength: 4 });
  const document = fc.record({
    kind: fc.constant('document' as const),
    base: fc.nat(docs - 1),
    identity: fc.constantFrom('fresh', 'fresh', 'fresh', 'keep', 'seed-patient', 'new-patient') as fc.Arbitrary<'fresh' | 'keep' | 'seed-patient' | 'new-patient'>,
    patient: fc.nat(seedCount - 1),
    timestamp: fc.constantFrom('keep', 'now', 'old') as fc.Arbitrary<'keep' | 'now' | 'old'>,
    mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Mutation[]) }, { weight: 3, arbitrary: mutations }),
    matchUrlId: fc.boolean(),
  });
  const consent = fc.record({
    kind: fc.constant('consent' as const),
    patient: idRef('patient'),
    provision: fc.nat(6),
    status: fc.oneof(fc.constantFrom('active', 'active', 'inactive', 'draft', 'rejected', 'entered-in-error'), nastyString),
    mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as Mutation[]) }, { weight: 2, arbitrary: mutations }),
    matchUrlId: fc.boolean(),
  });
  const junk: fc.Arbitrary<BodySpec> = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value): BodySpec => ({ kind: 'json', value })),
    fc.oneof(nastyString, fc.constantFrom('{', '[', '{"resourceType":', 'null', '""', '{}', '[]', '{"resourceType":"Bundle"}', '\ufeff{"resourceType":"Bundle"}', '{"__proto__":{"x":1}}', '{"a":1,"a":2}', '{"resourceType":"Bundle","entry":[' + '['.repeat(5000))).map((text): BodySpec => ({ kind: 'text', text })),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })),
  );
  const main: fc.Arbitrary<BodySpec> = path.includes('Consent') ? consent : path.includes('$validate') ? fc.oneof(document, consent) : document;
  const validate = path.includes('$validate')
    ? fc.record({ kind: fc.constant('validate' as const), wrap: fc.boolean(), inner: main, profile: fc.option(fc.oneof(fc.constantFrom(...PROFILES), nastyString)) })
    : main;
  return fc.oneof(
    { weight: 8, arbitrary: validate },
    { weight: 2, arbitrary: junk },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncated' as const), inner: main, keep: fc.nat(20_000) }) },
  );
}

function mutation(): fc.Arbitrary<Mutation> {
  const at = fc.nat(100_000);
  const value = fc.oneof(nastyString, fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, 0, -1, 1e308, '', [], {}, true, 'Patient/unknown', 'urn:uuid:00000000-0000-0000-0000-000000000000'));
  return fc.oneof(
    { weight: 3, arbitrary: at.map((a): Mutation => ({ op: 'delete', at: a })) },
    { weight: 3, arbitrary: fc.tuple(at, value).map(([a, v]): Mutation => ({ op: 'set', at: a, value: v })) },
    { weight: 3, arbitrary: at.map((a): Mutation => ({ op: 'mark', at: a })) },
    { weight: 1, arbitrary: at.map((a): Mutation => ({ op: 'duplicate', at: a })) },
    { weight: 1, arbitrary: at.map((a): Mutation => ({ op: 'wrap', at: a })) },
    { weight: 1, arbitrary: fc.tuple(at, fc.oneof(fc.constantFrom('__proto__', 'constructor', 'resourceType', 'id', 'extension', '_birthDate', 'fhir_comments', '$ne', ''), nastyString), value).map(([a, key, v]): Mutation => ({ op: 'set-key', at: a, key, value: v })) },
  );
}

/** HTTP-level malformations. */
export function rawMutation(): fc.Arbitrary<RawMutation> {
  return fc.oneof(
    fc.oneof(fc.constantFrom('G@T', 'GET GET', 'get', 'FOO', 'BREW', 'CONNECT', 'PRI', '', ' GET', 'GE\u0000T'), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 })).map((method): RawMutation => ({ kind: 'bad-method', method })),
    fc.constantFrom('HTTP/9.9', 'HTTP/1.1 extra', '', 'HTTP/1', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1\u0000').map((version): RawMutation => ({ kind: 'bad-version', version })),
    fc.integer({ min: 16_500, max: 70_000 }).map((bytes): RawMutation => ({ kind: 'oversized-header', bytes })),
    fc.integer({ min: 100, max: 3000 }).map((count): RawMutation => ({ kind: 'many-headers', count })),
    fc.constant<RawMutation>({ kind: 'header-without-colon' }),
    fc.constantFrom('X Y', 'X\u0000', 'Ä', '(x)', ':x', 'x\u007f').map((name): RawMutation => ({ kind: 'bad-header-name', name })),
    fc.constant<RawMutation>({ kind: 'folded-header' }),
    fc.constant<RawMutation>({ kind: 'content-length-and-chunked' }),
    fc.constant<RawMutation>({ kind: 'two-content-lengths' }),
    fc.constant<RawMutation>({ kind: 'bad-chunk' }),
    fc.constant<RawMutation>({ kind: 'chunked' }),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }).map((bytes): RawMutation => ({ kind: 'raw-bytes-in-path', bytes })),
    fc.constant<RawMutation>({ kind: 'bare-lf' }),
    fc.record({ missing: fc.integer({ min: 1, max: 100_000 }), waitMs: fc.integer({ min: 20, max: 300 }) }).map((r): RawMutation => ({ kind: 'body-never-finishes', ...r })),
    fc.integer({ min: 20, max: 300 }).map((waitMs): RawMutation => ({ kind: 'headers-never-finish', waitMs })),
    fc.constant<RawMutation>({ kind: 'pipelined' }),
    fc.constant<RawMutation>({ kind: 'http10' }),
    fc.constant<RawMutation>({ kind: 'absolute-form' }),
    fc.constant<RawMutation>({ kind: 'expect-continue' }),
    fc.constant<RawMutation>({ kind: 'invalid-utf8-body' }),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 200 }).map((bytes): RawMutation => ({ kind: 'garbage', bytes })),
  );
}

/** Settings of {@link requestSpec}. */
export interface RequestArbitraryOptions {
  /** The node's routes (from `server.table()`). */
  routes: readonly RouteShape[];
  /** Share of requests sent over a real socket (0..1). */
  socketShare: number;
  /** Share of socket requests with an HTTP-level malformation (0..1). */
  rawShare: number;
}

let wellFormedTokens: fc.Arbitrary<TokenSpec> | undefined;

/** Tokens a route's legitimate callers hold: this country's hospital, clinicians, peers, patients, operators. */
function wellFormedToken(): fc.Arbitrary<TokenSpec> {
  if (wellFormedTokens) return wellFormedTokens;
  const seedAt = seedPatients().filter((p) => p.country === 'AT').map((p) => `${p.system}|${p.value}`);
  const honest = (label: string, token: fc.Arbitrary<HonestToken>) => token.map((t): TokenSpec => ({ kind: 'honest', label, token: t }));
  const subject = fc.integer({ min: 1, max: 12 }).map((n) => `fuzz-user-${n}`);
  wellFormedTokens = fc.oneof(
    { weight: 4, arbitrary: honest('hospital', subject.map((s): HonestToken => ({ issuer: 'his', country: 'AT', subject: s, scope: 'system/Bundle.crus system/Patient.rs system/Consent.crus' }))) },
    { weight: 2, arbitrary: honest('clinician', fc.record({ subject, role: fc.constantFrom('221', '2211', '2221') }).map((t): HonestToken => ({ issuer: 'idp', country: 'AT', purpose: 'TREAT', ...t }))) },
    { weight: 2, arbitrary: honest('peer-node-for-clinician', fc.record({ subject, country: fc.constantFrom<Country>('PT', 'FR') }).map((t): HonestToken => ({ issuer: 'ncp', role: '221', purpose: 'TREAT', homeCountry: t.country, ...t }))) },
    { weight: 1, arbitrary: honest('clinician-break-glass', fc.record({ subject, purpose: fc.constantFrom('ETREAT', 'BTG') }).map((t): HonestToken => ({ issuer: 'idp', country: 'AT', role: '221', breakGlassReason: 'unconscious on arrival', ...t }))) },
    { weight: 1, arbitrary: honest('patient', fc.record({ subject, patient: fc.constantFrom(...seedAt) }).map((t): HonestToken => ({ issuer: 'idp', country: 'AT', scope: 'patient/Patient.rs patient/Bundle.r patient/Consent.crus patient/AuditEvent.rs', ...t }))) },
    { weight: 1, arbitrary: honest('operator', subject.map((s): HonestToken => ({ issuer: 'ops', country: 'AT', subject: s, scope: 'system/AuditEvent.rs system/Consent.rs' }))) },
  );
  return wellFormedTokens;
}

/** The first, valid, choices of a query parameter. */
function wellFormedQueryValue(name: string): fc.Arbitrary<string> {
  const seeds = seedPatients();
  const known: Record<string, fc.Arbitrary<string>> = {
    identifier: fc.constantFrom(...seeds.map((p) => `${p.system}|${p.value}`)),
    patient: fc.constantFrom('@patient', 'Patient/@patient'),
    family: fc.constantFrom(...seeds.flatMap((p) => p.family)),
    given: fc.constantFrom(...seeds.flatMap((p) => p.given)),
    birthdate: fc.constantFrom(...seeds.map((p) => p.birthDate), 'ge1950', 'lt2000-01-01'),
    gender: fc.constantFrom('male', 'female'),
    _count: fc.constantFrom('1', '10', '100'),
    _offset: fc.constantFrom('0', '1'),
    profile: fc.constant(PROFILES[0]!),
    mode: fc.constantFrom('full', 'create'),
    _format: fc.constantFrom('json', 'application/fhir+json'),
    _pretty: fc.constantFrom('true', 'false'),
  };
  return known[name] ?? fc.constant('1');
}

/** A well-formed body for a route: an unmutated document or Consent, its id matching the URL. */
function wellFormedBody(path: string, docs: number, seedCount: number): fc.Arbitrary<BodySpec> {
  const document = fc.record({
    kind: fc.constant('document' as const),
    base: fc.nat(docs - 1),
    identity: fc.constantFrom('fresh', 'new-patient', 'seed-patient', 'keep') as fc.Arbitrary<'fresh' | 'keep' | 'seed-patient' | 'new-patient'>,
    patient: fc.nat(seedCount - 1),
    timestamp: fc.constantFrom('keep', 'now') as fc.Arbitrary<'keep' | 'now'>,
    mutations: fc.constant([] as Mutation[]),
    matchUrlId: fc.constant(true),
  });
  const consent = fc.record({
    kind: fc.constant('consent' as const),
    patient: fc.nat(40).map((index): IdRef => ({ ref: 'patient', index })),
    provision: fc.nat(6),
    status: fc.constant('active'),
    mutations: fc.constant([] as Mutation[]),
    matchUrlId: fc.constant(true),
  });
  if (path.includes('$validate')) return fc.record({ kind: fc.constant('validate' as const), wrap: fc.boolean(), inner: fc.oneof(document, consent), profile: fc.constant(null) });
  // An update sends the stored resource back, changed: anything else is a conflict.
  if (/\{id\}$/.test(path)) return fc.constantFrom('timestamp', 'timestamp', 'none', 'mark').map((change): BodySpec => ({ kind: 'current', change: change as 'timestamp' | 'none' | 'mark' }));
  return path.includes('Consent') ? consent : document;
}

/** Requests to one route: well-formed ones (right caller, valid parameters and body) or anything. */
function routeRequests(method: string, path: string, shape: RouteShape | undefined, options: RequestArbitraryOptions, wellFormed: boolean): fc.Arbitrary<RequestSpec> {
  const docs = baseDocuments().length;
  const seeds = seedPatients().length;
  const names = [...path.matchAll(/\{(\w+)\*?\}/g)].map((m) => m[1]!);
  const resource = /\/fhir\/(Bundle|Consent)\/\{id\}$/.exec(path)?.[1]?.toLowerCase() as 'bundle' | 'consent' | undefined;
  const takesBody = shape?.body ?? method !== 'GET';
  const goodParam = (n: string): fc.Arbitrary<ParamValue> => {
    if (n === 'type') return fc.constantFrom('Bundle', 'Consent', 'Patient').map((value): ParamValue => ({ ref: 'type', value }));
    if (n === 'vid') return fc.nat(40).map((index): ParamValue => ({ ref: 'version', of: path.includes('Consent') ? 'consent' : 'bundle', index, offset: 0 }));
    const kind = (/\/fhir\/(Bundle|Patient|Consent)\//.exec(path)?.[1]?.toLowerCase() ?? 'patient') as 'bundle' | 'patient' | 'consent';
    return fc.nat(40).map((index): ParamValue => ({ ref: kind, index }));
  };
  const params =
    names.length === 0
      ? fc.constant({})
      : fc.record(Object.fromEntries(names.map((n) => [n, n === 'extra' ? nastyString.map((value): ParamValue => ({ ref: 'literal', value })) : wellFormed ? goodParam(n) : pathParam(path, n)])));
  const query = wellFormed
    ? shape && shape.queryKeys.length > 0
      ? fc.subarray(shape.queryKeys.filter((k) => !k.startsWith('_') || k === '_count')).chain((keys) => fc.tuple(...keys.map((k) => wellFormedQueryValue(k).map((v): [string, string] => [k, v]))))
      : fc.constant([] as [string, string][])
    : shape
      ? queryOf(shape)
      : fc.array(fc.tuple(nastyString, nastyString), { maxLength: 2 });
  const body = wellFormed
    ? takesBody
      ? wellFormedBody(path, docs, seeds)
      : fc.constant(null)
    : takesBody
      ? fc.oneof({ weight: 12, arbitrary: bodyFor(path, docs, seeds) }, { weight: 1, arbitrary: fc.constant(null) })
      : fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: bodyFor(path, docs, seeds) });
  const ifMatch =
    method === 'PUT' && resource
      ? wellFormed
        ? fc.nat(40).map((index) => ({ of: resource, index, offset: 0 }))
        : fc.oneof(
            { weight: 6, arbitrary: fc.record({ of: fc.constant(resource), index: fc.nat(40), offset: fc.constantFrom(0, 0, 0, -1, 1) }) },
            { weight: 1, arbitrary: fc.constant(null) },
            { weight: 1, arbitrary: fc.oneof(headerSafeString, fc.constantFrom('W/"0"', '"1"', 'W/1', '*', 'W/"1", W/"2"', 'W/"99999999999"')).map((value) => ({ value })) },
          )
      : fc.constant(null);
  const percent = fc.noBias(fc.integer({ min: 0, max: 999 }));
  return fc
    .record({
      token: wellFormed ? wellFormedToken() : tokenSpec(),
      method: wellFormed ? fc.constant(method) : fc.oneof({ weight: 20, arbitrary: fc.constant(method) }, { weight: 1, arbitrary: fc.constantFrom(...HTTP_METHODS) }),
      template: fc.constant(path),
      params,
      query,
      rawQuery: wellFormed ? fc.constant(false) : fc.boolean(),
      headers: wellFormed ? fc.constant([] as [string, string][]) : headersOf(),
      body,
      contentType: wellFormed ? fc.constant('application/fhir+json') : fc.oneof({ weight: 10, arbitrary: fc.constant('application/fhir+json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(null) }),
      ifMatch,
      socket: percent.map((n) => n < options.socketShare * 1000),
      raw: wellFormed ? fc.constant(null) : percent.chain((n) => (n < options.rawShare * 1000 ? rawMutation() : fc.constant(null))),
    })
    .map((spec) => (spec.socket ? spec : { ...spec, raw: null }));
}

/**
 * One request to any route of the table (or to a made-up path): a third well-formed (the
 * route's legitimate caller, valid parameters and body, to reach deep), the rest anything.
 */
export function requestSpec(options: RequestArbitraryOptions): fc.Arbitrary<RequestSpec> {
  const concrete = options.routes.filter((r) => r.method !== '*');
  const wildcard = options.routes.filter((r) => r.method === '*');
  const made = ['/fhir', '/', '/fhir/', '/fhir/Bundle/', '/fhir/Patient/$everything', '/fhir/Observation', '/FHIR/metadata', '/fhir//Patient', '/fhir/Patient/../Bundle', '/fhir/%2e%2e/x', '/fhir/metadata.json', '/fhir/$export', '/fhir/Bundle/x/_history/1/extra'];
  const anyMethod = (path: string, shape: RouteShape | undefined) => fc.oneof(...HTTP_METHODS.map((method) => routeRequests(method, path, shape && { ...shape, method }, options, false)));
  return fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...concrete.map((r) => routeRequests(r.method, r.path, r, options, true))) },
    { weight: 12, arbitrary: fc.oneof(...concrete.map((r) => routeRequests(r.method, r.path, r, options, false))) },
    { weight: 1, arbitrary: fc.oneof(...wildcard.map((r) => anyMethod(r.path, r))) },
    { weight: 1, arbitrary: fc.oneof(...made.flatMap((p) => [anyMethod(p, undefined), anyMethod(`${p}/{extra}`, undefined)])) },
  );
}

/** The reference of a batch: requests sent together, and how the peer behind the proxy behaves meanwhile. */
export interface BatchSpec {
  requests: RequestSpec[];
  peerFault: string;
}

/** Batches of 1 to `maxBatch` requests sent concurrently, with a peer fault for the batch. */
export function batchSpec(options: RequestArbitraryOptions & { maxBatch: number; peerFaults: readonly string[] }): fc.Arbitrary<BatchSpec> {
  return fc.record({
    requests: fc.array(requestSpec(options), { minLength: 1, maxLength: options.maxBatch, size: 'max' }),
    peerFault: fc.oneof({ weight: 6, arbitrary: fc.constant('pass') }, { weight: 2, arbitrary: fc.constantFrom(...options.peerFaults) }),
  });
}
