import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { projectRoot } from '../project-root.js';
import { JwsKey, signJwt, type JwsAlgorithm } from './jws.js';

/** Options of a demo token; the defaults make a doctor reading for treatment. */
export interface DemoTokenOptions {
  /** Base URL of the node the token is for. */
  audience: string;
  /** Country of the demo issuer (its node's country); defaults to AT. */
  country?: string;
  /** Demo issuer: `idp`, `his`, `ncp` or `ops`; chosen from the scopes when absent. */
  issuer?: 'idp' | 'his' | 'ncp' | 'ops';
  scope?: string;
  subject?: string;
  /** ISCO-08 code. */
  role?: string;
  purpose?: string;
  /** `system|value` of the patient, for a patient's own token. */
  patient?: string;
  name?: string;
  organization?: string;
  organizationId?: string;
  /** Country the requester acts from (`home_community_id`); defaults to the issuer's. */
  homeCountry?: string;
  breakGlassReason?: string;
  /** Lifetime in seconds (default 300). */
  ttlSeconds?: number;
  /** Overrides for tests of refused tokens: claims merged over the built ones. */
  claims?: Record<string, unknown>;
}

interface DemoKey {
  issuer: string;
  key: { kid: string; alg: string; d: string; [member: string]: unknown };
}

/** A demo issuer's private key: `key` for other signers (tests forge with jose), `signer` for this module's. */
export interface DemoSigningKey {
  issuer: string;
  kid: string;
  alg: JwsAlgorithm;
  key: KeyObject;
  signer: JwsKey;
}

const keys = new Map<string, DemoSigningKey>();

/** A demo issuer's signing key, from seed/trust/demo-keys (public: demo only). */
export async function demoSigningKey(issuer: string, country: string): Promise<DemoSigningKey> {
  const name = `${issuer}-${country.toLowerCase()}`;
  let found = keys.get(name);
  if (!found) {
    const file = join(projectRoot(), 'seed', 'trust', 'demo-keys', `${name}.json`);
    const demo = JSON.parse(readFileSync(file, 'utf8')) as DemoKey;
    const signer = JwsKey.fromJwk(demo.key, demo.key.alg, 'private');
    found = { issuer: demo.issuer, kid: demo.key.kid, alg: signer.alg, key: signer.key, signer };
    keys.set(name, found);
  }
  return found;
}

function defaultIssuer(scope: string): 'idp' | 'his' | 'ops' {
  if (scope.startsWith('system/')) return /AuditEvent/.test(scope) && !/Bundle/.test(scope) ? 'ops' : 'his';
  return 'idp';
}

/** Mints an IHE IUA token signed by a demo issuer of seed/trust. */
export async function mintDemoToken(options: DemoTokenOptions): Promise<string> {
  const patientToken = options.patient !== undefined;
  const scope = options.scope ?? (patientToken ? 'patient/Patient.rs patient/Bundle.r patient/Consent.crus patient/AuditEvent.rs' : 'user/Patient.rs user/Bundle.r');
  const issuerName = options.issuer ?? defaultIssuer(scope);
  const country = (options.country ?? 'AT').toUpperCase();
  const signing = await demoSigningKey(issuerName, country);
  const now = Math.floor(Date.now() / 1000);
  const user = scope.split(' ').some((s) => s.startsWith('user/'));
  const iua: Record<string, unknown> = {};
  if (user) {
    Object.assign(iua, {
      subject_name: options.name ?? 'Dr. Demo Clinician',
      subject_role: { system: 'urn:oid:2.16.840.1.113883.2.9.6.2.7', code: options.role ?? '221' },
      subject_organization: options.organization ?? `Demo Hospital ${options.homeCountry ?? country}`,
      subject_organization_id: options.organizationId ?? `urn:oid:1.2.3.4.${(options.homeCountry ?? country).toLowerCase()}`,
      purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: options.purpose ?? 'TREAT' },
      home_community_id: options.homeCountry ?? country,
    });
  }
  if (patientToken) {
    Object.assign(iua, {
      subject_name: options.name ?? 'Demo Patient',
      person_id: options.patient,
      purpose_of_use: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: options.purpose ?? 'PATRQT' },
      home_community_id: options.homeCountry ?? country,
    });
  }
  const claims: Record<string, unknown> = {
    scope,
    client_id: `demo-${issuerName}-${country.toLowerCase()}`,
    ...(Object.keys(iua).length > 0 || options.breakGlassReason
      ? { extensions: { ...(Object.keys(iua).length > 0 ? { ihe_iua: iua } : {}), ...(options.breakGlassReason ? { pontis: { break_glass_reason: options.breakGlassReason } } : {}) } }
      : {}),
    ...options.claims,
  };
  const subject = options.subject ?? (patientToken ? `patient-${options.patient}` : `demo-${issuerName}-user`);
  // The registered claims are set over `options.claims`, as jose's SignJWT setters did.
  return signJwt(
    { alg: signing.alg, kid: signing.kid, typ: 'JWT' },
    { ...claims, iss: signing.issuer, sub: subject, aud: options.audience, iat: now, exp: now + (options.ttlSeconds ?? 300), jti: randomUUID() },
    signing.signer,
  );
}
