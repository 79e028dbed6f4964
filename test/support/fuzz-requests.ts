import type { KeyObject } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { demoSigningKey, mintDemoToken } from '../../src/auth/demo-tokens.js';
import { baseDocuments, MARKER, MARKERS_IN, seedPatients, type BodySpec, type Forgery, type HonestToken, type IdRef, type Mutation, type ParamValue, type RawMutation, type RequestSpec, type TokenSpec } from './fuzz-arbitraries.js';

/**
 * Turns the data the fuzz arbitraries generate into concrete requests: unique markers, tokens
 * (minted by the demo issuers, or forged), ids of what the node holds, bodies, and, for the
 * socket, the bytes of the HTTP message with its malformations.
 */

type Json = Record<string, any>;

/** What the node holds, refreshed between batches, for requests that name real ids. */
export interface KnownResources {
  patients: string[];
  bundles: { id: string; version: number }[];
  consents: { id: string; version: number }[];
}

/** State shared by the requests of one fuzz round. */
export interface BuildContext {
  /** The node's base URL: the tokens' audience. */
  audience: string;
  known: KnownResources;
  /** Next marker number (markers are unique within a process). */
  markerCount: number;
  /** The last honest token built, for replays. */
  lastToken: string | undefined;
  /** The stored JSON of a document or Consent at its latest known version, for updates. */
  stored(of: 'bundle' | 'consent', id: string): Promise<Json | undefined>;
}

/** A request ready to send, with what the checks need to know about it. */
export interface BuiltRequest {
  spec: RequestSpec;
  method: string;
  /** Path and query, as sent. */
  target: string;
  headers: [string, string][];
  body: Buffer | undefined;
  /** Every marker the request carries (path, query, headers, token, body). */
  markers: string[];
  /** Markers in the body only: stored if and only if the write is accepted. */
  bodyMarkers: string[];
  /** A read that may be answered by another Member State's node (502, 503, 504 are its documented answers). */
  crossBorder: boolean;
  /** The token kind, for the report. */
  tokenLabel: string;
  /** The message as bytes for a socket (parts are written one after the other). */
  wire?: { parts: Buffer[]; expected: number; abandonAfterMs?: number };
}

const FOREIGN_SYSTEMS = ['urn:oid:2.16.620.1.101.10.1.1', 'urn:oid:1.2.250.1.213.1.4.8'];

/** Replaces every marker placeholder in strings of `value` by a unique marker. */
function withMarkers<T>(value: T, ctx: BuildContext, found: string[]): T {
  if (typeof value === 'string') {
    if (!value.includes(MARKER)) return value;
    return value.split(MARKER).reduce((out, part, i) => {
      if (i === 0) return part;
      const marker = `zqmk${(ctx.markerCount++).toString(16).padStart(8, '0')}`;
      found.push(marker);
      return `${out}${marker}${part}`;
    }, '') as T;
  }
  if (Array.isArray(value)) return value.map((v) => withMarkers(v, ctx, found)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) define(out, withMarkers(k, ctx, found), withMarkers(v, ctx, found));
    return out as T;
  }
  return value;
}

/** Sets an own property, also for keys such as `__proto__` (JSON.parse makes those own properties too). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Tokens.

const b64 = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const decode = (part: string): Json => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Json;

let strangerKey: Promise<{ privateKey: CryptoKey; jwk: JWK }> | undefined;
/** A key no trust list knows. */
function stranger(): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  strangerKey ??= generateKeyPair('ES256', { extractable: true }).then(async ({ privateKey, publicKey }) => ({ privateKey, jwk: await exportJWK(publicKey) }));
  return strangerKey;
}

async function sign(header: Json, payload: Json, key: CryptoKey | KeyObject | Uint8Array): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header as { alg: string }).sign(key);
}

function setPath(target: Json, path: string, value: unknown, remove: boolean): void {
  const keys = path.split('.');
  let at: Json = target;
  for (const key of keys.slice(0, -1)) {
    if (at[key] === null || typeof at[key] !== 'object') at[key] = {};
    at = at[key] as Json;
  }
  const last = keys[keys.length - 1]!;
  if (remove) delete at[last];
  else define(at, last, value);
}

async function honestJwt(token: HonestToken, audience: string): Promise<string> {
  return mintDemoToken({
    audience,
    country: token.country,
    issuer: token.issuer,
    subject: token.subject,
    ...(token.scope !== undefined ? { scope: token.scope } : {}),
    ...(token.role !== undefined ? { role: token.role } : {}),
    ...(token.purpose !== undefined ? { purpose: token.purpose } : {}),
    ...(token.breakGlassReason !== undefined ? { breakGlassReason: token.breakGlassReason } : {}),
    ...(token.homeCountry !== undefined ? { homeCountry: token.homeCountry } : {}),
    ...(token.patient !== undefined ? { patient: token.patient } : {}),
    ...(token.name !== undefined ? { name: token.name } : {}),
  });
}

async function forge(token: HonestToken, forgery: Forgery, ctx: BuildContext): Promise<string> {
  const jwt = await honestJwt(token, ctx.audience);
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = decode(h);
  const payload = decode(p);
  const key = await demoSigningKey(token.issuer, token.country);
  const now = Math.floor(Date.now() / 1000);
  const resign = () => sign(header, payload, key.key);
  switch (forgery.how) {
    case 'expired':
      Object.assign(payload, { iat: now - 600, exp: now - 120 });
      return resign();
    case 'not-yet-valid':
      payload['nbf'] = now + 3600;
      return resign();
    case 'issued-in-future':
      Object.assign(payload, { iat: now + 3600, exp: now + 3900 });
      return resign();
    case 'too-long-lifetime':
      payload['exp'] = now + 7200;
      return resign();
    case 'wrong-audience':
      payload['aud'] = 'http://elsewhere.example/fhir';
      return resign();
    case 'bad-signature':
      return `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    case 'alg-none':
      return `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
    case 'hs256':
      return sign({ ...header, alg: 'HS256' }, payload, new TextEncoder().encode(String(header['kid'])));
    case 'unknown-kid':
      return sign({ ...header, kid: 'no-such-kid' }, payload, key.key);
    case 'unknown-issuer':
      payload['iss'] = 'https://issuer.unknown.example';
      return resign();
    case 'other-issuers-key': {
      const other = await demoSigningKey(token.issuer === 'his' ? 'idp' : 'his', token.country);
      return sign({ ...header, alg: other.alg }, payload, other.key);
    }
    case 'self-signed':
      return sign({ ...header, alg: 'ES256' }, payload, (await stranger()).privateKey);
    case 'embedded-jwk': {
      const s2 = await stranger();
      return sign({ ...header, alg: 'ES256', jwk: s2.jwk }, payload, s2.privateKey);
    }
    case 'replayed':
      return ctx.lastToken ?? jwt;
    case 'truncated':
      return jwt.slice(0, Math.max(1, jwt.length - 11));
    case 'missing-claim':
      setPath(payload, forgery.claim, undefined, true);
      return resign();
    case 'claim-value':
      setPath(payload, forgery.claim, forgery.value, false);
      return resign();
  }
}

/** The Authorization header value for a token spec (undefined: none). */
export async function authorizationOf(spec: TokenSpec, ctx: BuildContext): Promise<string | undefined> {
  switch (spec.kind) {
    case 'absent':
      return undefined;
    case 'honest': {
      const jwt = await honestJwt(spec.token, ctx.audience);
      ctx.lastToken = jwt;
      return `Bearer ${jwt}`;
    }
    case 'forged':
      return `Bearer ${await forge(spec.token, spec.forgery, ctx)}`;
    case 'malformed': {
      if (!spec.header.startsWith('@')) return spec.header;
      const jwt = await honestJwt({ issuer: 'his', country: 'AT', subject: 'fuzz-user-1', scope: 'system/Bundle.crus system/Patient.rs system/Consent.crus' }, ctx.audience);
      switch (spec.header) {
        case '@jwt-and-extra':
          return `Bearer ${jwt} extra`;
        case '@two-tokens':
          return `Bearer ${jwt}, Bearer ${jwt}`;
        case '@lowercase-scheme':
          return `bearer ${jwt}`;
        default:
          return `  Bearer   ${jwt}  `;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bodies.


/** Every member of a JSON value, as paths, in document order (at most `limit`). */
function membersOf(value: unknown, limit = 20_000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (out.length >= limit) return;
    const children: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : v !== null && typeof v === 'object' ? Object.entries(v) : [];
    for (const [key, child] of children) {
      out.push([...path, key]);
      walk(child, [...path, key]);
    }
  };
  walk(value, []);
  return out;
}

function parentOf(root: unknown, path: (string | number)[]): any {
  let at: any = root;
  for (const key of path.slice(0, -1)) at = at[key];
  return at;
}

/** Applies mutations in order; each picks its member modulo the members present then. */
export function mutate(document: unknown, mutations: readonly Mutation[]): unknown {
  for (const m of mutations) {
    const members = membersOf(document);
    if (members.length === 0) continue;
    const path = members[m.at % members.length]!;
    const parent = parentOf(document, path);
    const key = path[path.length - 1]!;
    const current = parent[key];
    switch (m.op) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 'set':
        define(parent, key as string, structuredClone(m.value));
        break;
      case 'mark':
        define(parent, key as string, typeof current === 'string' ? `${current}${MARKER}` : MARKER);
        break;
      case 'duplicate':
        if (Array.isArray(parent)) parent.push(structuredClone(current));
        else define(parent, key as string, [structuredClone(current), structuredClone(current)]);
        break;
      case 'wrap':
        define(parent, key as string, [current]);
        break;
      case 'set-key': {
        const target = current !== null && typeof current === 'object' && !Array.isArray(current) ? current : parent;
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) define(target, m.key, structuredClone(m.value));
        break;
      }
    }
  }
  return document;
}

function patientOf(bundle: Json): Json | undefined {
  return (bundle['entry'] as Json[] | undefined)?.find((e) => e?.['resource']?.['resourceType'] === 'Patient')?.['resource'] as Json | undefined;
}

const PROVISIONS: Json[] = [
  { type: 'permit' },
  { type: 'deny' },
  { type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '60591-5' }] }] },
  { type: 'permit', provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://loinc.org', code: '11450-4' }] }] }] },
  {
    type: 'permit',
    provision: [{ type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { identifier: { system: 'urn:iso:std:iso:3166', value: 'FR' } } }] }],
  },
  { type: 'permit', period: { start: '2020-01-01', end: '2021-01-01' } },
  {},
];

/** A body before markers are built: JSON, text or bytes, possibly cut short. */
interface BodyValue {
  json?: unknown;
  text?: string;
  bytes?: Buffer;
  /** Keep only this many bytes (modulo the length). */
  truncate?: number;
}

/** The body of a spec as a JSON value (or bytes for non-JSON bodies); markers are placeholders still. */
function bodyValue(spec: BodySpec, urlId: string | undefined, ctx: BuildContext): BodyValue {
  const bases = baseDocuments();
  const seeds = seedPatients();
  switch (spec.kind) {
    case 'document': {
      const bundle = structuredClone(bases[spec.base % bases.length]!.bundle);
      if (spec.identity !== 'keep') bundle['identifier'] = { system: 'urn:fuzz:documents', value: MARKER };
      const patient = patientOf(bundle);
      if (patient && spec.identity === 'seed-patient') {
        const seed = seeds[spec.patient % seeds.length]!;
        patient['identifier'] = [{ system: seed.system, value: seed.value }];
      }
      if (patient && spec.identity === 'new-patient') patient['identifier'] = [{ system: 'urn:fuzz:national', value: MARKER }];
      if (spec.timestamp === 'now') bundle['timestamp'] = new Date().toISOString();
      if (spec.timestamp === 'old') bundle['timestamp'] = '2001-02-03T04:05:06Z';
      if (spec.matchUrlId && urlId !== undefined) bundle['id'] = urlId;
      return { json: mutate(bundle, spec.mutations) };
    }
    case 'consent': {
      const consent: Json = {
        resourceType: 'Consent',
        identifier: [{ system: 'urn:fuzz:consents', value: MARKER }],
        status: spec.status,
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: `Patient/${resolveId(spec.patient, ctx)}` },
        dateTime: '2026-01-01T00:00:00Z',
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        provision: structuredClone(PROVISIONS[spec.provision % PROVISIONS.length]),
      };
      if (spec.matchUrlId && urlId !== undefined) consent['id'] = urlId;
      return { json: mutate(consent, spec.mutations) };
    }
    case 'validate': {
      const inner = bodyValue(spec.inner, urlId, ctx);
      if (!spec.wrap || inner.json === undefined) return inner;
      return { json: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: inner.json }, ...(spec.profile === null ? [] : [{ name: 'profile', valueUri: spec.profile }])] } };
    }
    case 'json':
      return { json: spec.value };
    case 'text':
      return { text: spec.text };
    case 'bytes':
      return { bytes: Buffer.from(spec.bytes) };
    case 'truncated': {
      return { ...bodyValue(spec.inner, urlId, ctx), truncate: spec.keep };
    }
    case 'current':
      // Resolved by buildRequest, which reads the store.
      return { json: {} };
  }
}

/** The stored resource behind an update's URL, changed as the spec says. */
async function currentBody(spec: Extract<BodySpec, { kind: 'current' }>, template: string, id: string | undefined, ctx: BuildContext): Promise<unknown> {
  const of = template.includes('Consent') ? 'consent' : 'bundle';
  const stored = id === undefined ? undefined : await ctx.stored(of, id);
  if (!stored) return { resourceType: of === 'bundle' ? 'Bundle' : 'Consent', id };
  delete stored['meta'];
  if (spec.change === 'timestamp') {
    if (of === 'bundle') stored['timestamp'] = new Date().toISOString();
    else stored['dateTime'] = new Date().toISOString();
  }
  if (spec.change === 'mark') {
    if (of === 'bundle') {
      const composition = (stored['entry'] as Json[] | undefined)?.[0]?.['resource'] as Json | undefined;
      if (composition) composition['title'] = `${String(composition['title'] ?? '')} ${MARKER}`;
    } else stored['identifier'] = [{ system: 'urn:fuzz:consents', value: MARKER }];
  }
  return stored;
}

// ---------------------------------------------------------------------------------------------
// Paths and queries.

/** Percent-encodes like encodeURIComponent, but lone surrogates become the bytes a sloppy client would send (CESU-8). */
export function encodeLoose(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(text[i]!);
    }
  }
  return out;
}

/** Leaves visible ASCII as it is (a client that does not encode), encodes the rest. */
function encodeRaw(text: string, separators: RegExp): string {
  let out = '';
  for (const ch of text) out += /^[\x21-\x7e]$/.test(ch) && !separators.test(ch) ? ch : encodeLoose(ch);
  return out;
}

function resolveId(ref: IdRef, ctx: BuildContext): string {
  if (ref.ref === 'literal') return ref.value;
  const list = ref.ref === 'patient' ? ctx.known.patients : ref.ref === 'bundle' ? ctx.known.bundles.map((b) => b.id) : ctx.known.consents.map((c) => c.id);
  return list.length === 0 ? 'none-yet' : list[ref.index % list.length]!;
}

function resolveParam(value: ParamValue, ctx: BuildContext): string {
  if (value.ref === 'type') return value.value;
  if (value.ref === 'version') {
    const list = value.of === 'bundle' ? ctx.known.bundles : ctx.known.consents;
    const v = list.length === 0 ? 1 : list[value.index % list.length]!.version;
    return String(v + value.offset);
  }
  return resolveId(value, ctx);
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** Builds one request from its spec; markers are numbered in the order requests are built. */
export async function buildRequest(input: RequestSpec, ctx: BuildContext): Promise<BuiltRequest> {
  const markers: string[] = [];
  const bodyMarkers: string[] = [];
  const { body: bodySpec, ...rest } = input;
  const spec = { ...withMarkers(rest, ctx, markers), body: bodySpec } as RequestSpec;
  const params = Object.fromEntries(Object.entries(spec.params).map(([k, v]) => [k, resolveParam(v, ctx)]));
  let path = spec.template.replace(/\{(\w+)\*?\}/g, (_m, name: string) => (spec.rawQuery ? encodeRaw(params[name] ?? '', /[/?#]/) : encodeLoose(params[name] ?? '')));
  const patientIds = ctx.known.patients;
  let patientPick = ctx.markerCount;
  const query = spec.query.map(([name, value]) => {
    const resolved = value.replace(/@patient/g, () => (patientIds.length === 0 ? 'none-yet' : patientIds[patientPick++ % patientIds.length]!));
    return [name, resolved] as [string, string];
  });
  if (query.length > 0) {
    const enc = (s: string) => (spec.rawQuery ? encodeRaw(s, /[&=#+ ]/) : encodeLoose(s));
    path += `?${query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
  }

  const headers: [string, string][] = [];
  const authorization = await authorizationOf(spec.token, ctx);
  if (authorization !== undefined) headers.push(['authorization', authorization]);
  let body: Buffer | undefined;
  if (bodySpec) {
    const value = bodySpec.kind === 'current' ? { json: await currentBody(bodySpec, spec.template, params['id'], ctx) } : bodyValue(bodySpec, params['id'], ctx);
    if (value.json !== undefined) body = Buffer.from(JSON.stringify(withMarkers(value.json, ctx, bodyMarkers)) ?? 'null', 'utf8');
    else if (value.text !== undefined) body = Buffer.from(withMarkers(value.text, ctx, bodyMarkers), 'utf8');
    else body = value.bytes ?? Buffer.alloc(0);
    if (value.truncate !== undefined) body = body.subarray(0, value.truncate % Math.max(1, body.length));
    markers.push(...bodyMarkers);
    if (spec.contentType !== null) headers.push(['content-type', spec.contentType]);
  }
  if (spec.ifMatch) {
    if ('value' in spec.ifMatch) headers.push(['if-match', spec.ifMatch.value]);
    else {
      const list = spec.ifMatch.of === 'bundle' ? ctx.known.bundles : ctx.known.consents;
      const id = params['id'];
      const version = list.find((r) => r.id === id)?.version ?? list[spec.ifMatch.index % Math.max(1, list.length)]?.version ?? 1;
      headers.push(['if-match', `W/"${version + spec.ifMatch.offset}"`]);
    }
  }
  headers.push(...spec.headers);
  const identifiers = query.filter(([k]) => k === 'identifier').map(([, v]) => v);
  const crossBorder = (spec.template === '/fhir/Patient/$summary' || spec.template === '/fhir/Patient') && identifiers.some((v) => FOREIGN_SYSTEMS.some((s) => v.startsWith(`${s}|`)));
  const built: BuiltRequest = { spec, method: spec.method, target: path, headers, body, markers, bodyMarkers, crossBorder, tokenLabel: spec.token.label };
  if (spec.socket) built.wire = wireOf(built, spec.raw);
  return built;
}

/** The bytes of a request on the wire, with its HTTP-level malformation. */
function wireOf(request: BuiltRequest, raw: RawMutation | null): { parts: Buffer[]; expected: number; abandonAfterMs?: number } {
  let method = request.method;
  let target = request.target;
  let version = 'HTTP/1.1';
  const lines: string[] = ['Host: fuzz.example'];
  // Header values are sent as Latin-1, as a client library would.
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  let body = request.body ?? Buffer.alloc(0);
  let framing = request.body ? [`Content-Length: ${body.length}`] : [];
  let eol = '\r\n';
  let expected = 1;
  let abandonAfterMs: number | undefined;
  let pathBytes: Buffer | undefined;
  switch (raw?.kind) {
    case 'bad-method':
      method = raw.method;
      break;
    case 'bad-version':
      version = raw.version;
      break;
    case 'oversized-header':
      lines.push(`X-Padding: ${'p'.repeat(raw.bytes)}${request.markers[0] ?? ''}`);
      break;
    case 'many-headers':
      for (let i = 0; i < raw.count; i++) lines.push(`X-Fuzz-${i}: ${i}`);
      break;
    case 'header-without-colon':
      lines.push('X-No-Colon value');
      break;
    case 'bad-header-name':
      lines.push(`${raw.name}: value`);
      break;
    case 'folded-header':
      lines.push('X-Folded: first', ' continued');
      break;
    case 'content-length-and-chunked':
      framing = [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'];
      break;
    case 'two-content-lengths':
      framing = [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`];
      break;
    case 'bad-chunk':
      framing = ['Transfer-Encoding: chunked'];
      body = Buffer.concat([Buffer.from(`zz\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      break;
    case 'chunked':
      framing = ['Transfer-Encoding: chunked'];
      body = body.length === 0 ? Buffer.from('0\r\n\r\n') : Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      break;
    case 'raw-bytes-in-path':
      pathBytes = Buffer.from(raw.bytes);
      break;
    case 'bare-lf':
      eol = '\n';
      break;
    case 'body-never-finishes':
      framing = [`Content-Length: ${body.length + raw.missing}`];
      abandonAfterMs = raw.waitMs;
      break;
    case 'headers-never-finish':
      abandonAfterMs = raw.waitMs;
      break;
    case 'http10':
      version = 'HTTP/1.0';
      break;
    case 'absolute-form':
      target = `http://fuzz.example${target}`;
      break;
    case 'expect-continue':
      lines.push('Expect: 100-continue');
      break;
    case 'invalid-utf8-body':
      body = Buffer.concat([body.subarray(0, Math.floor(body.length / 2)), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), body.subarray(Math.floor(body.length / 2))]);
      framing = [`Content-Length: ${body.length}`];
      break;
    case 'garbage':
      return { parts: [Buffer.concat([Buffer.from(raw.bytes), Buffer.from('\r\n\r\n')])], expected: 1 };
    default:
      break;
  }
  const requestLine = Buffer.concat([Buffer.from(`${method} `, 'latin1'), Buffer.from(target, 'latin1'), pathBytes ?? Buffer.alloc(0), Buffer.from(` ${version}`.trimEnd() + eol, 'latin1')]);
  const connection = raw?.kind === 'pipelined' ? 'keep-alive' : 'close';
  const head = Buffer.from([...lines, ...framing, `Connection: ${connection}`].join(eol) + eol + (raw?.kind === 'headers-never-finish' ? '' : eol), 'latin1');
  const message = raw?.kind === 'headers-never-finish' ? Buffer.concat([requestLine, head]) : Buffer.concat([requestLine, head, body]);
  if (raw?.kind === 'pipelined') {
    expected = 2;
    const last = Buffer.from(message.toString('latin1').replace('Connection: keep-alive', 'Connection: close'), 'latin1');
    return { parts: [Buffer.concat([message, last])], expected };
  }
  if (raw?.kind === 'expect-continue') {
    const split = requestLine.length + head.length;
    return { parts: [message.subarray(0, split), message.subarray(split)], expected };
  }
  return { parts: [message], expected, ...(abandonAfterMs !== undefined ? { abandonAfterMs } : {}) };
}

/** Every marker in a text. */
export function markersIn(text: string): string[] {
  return [...text.matchAll(MARKERS_IN)].map((m) => m[0].toLowerCase());
}
