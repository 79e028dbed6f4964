import type { Scope } from './scopes.js';

/** What an issuer in the trust list is, which bounds what its tokens may do here. */
export type IssuerKind = 'hospital-system' | 'identity-provider' | 'peer-node' | 'operator';

/** v3-ActReason purposes of use understood here. */
export type PurposeOfUse = 'TREAT' | 'ETREAT' | 'BTG' | 'PATRQT' | 'HOPERAT';

/** Purposes that are break-glass: emergency access beyond what consent would allow. */
export const BREAK_GLASS_PURPOSES: ReadonlySet<PurposeOfUse> = new Set(['ETREAT', 'BTG']);

/** ISCO-08 code system, as used by IHE IUA and the eHDSI. */
export const ISCO_08 = 'urn:oid:2.16.840.1.113883.2.9.6.2.7';
/** v3-ActReason code system. */
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** Names of the ISCO-08 roles the demo and defaults use. */
export const ISCO_ROLE_NAMES: Readonly<Record<string, string>> = {
  '221': 'Medical doctors',
  '2211': 'Generalist medical practitioners',
  '2212': 'Specialist medical practitioners',
  '2221': 'Nursing professionals',
  '2222': 'Midwifery professionals',
  '2261': 'Dentists',
  '2262': 'Pharmacists',
};

/**
 * The authenticated caller of one request, from a verified token: who (subject, name, role,
 * organisation, country), through which client, why (purpose), and what they may do (scopes).
 * Never logged: it holds names and, for patients, their identifier.
 */
export interface Requester {
  issuer: string;
  issuerKind: IssuerKind;
  /** `sub`: the person or system, as the issuer names it. */
  subject: string;
  clientId: string;
  tokenId: string;
  /** Member State the requester acts from (`home_community_id`, else the issuer's). */
  country: string;
  /** Scopes granted: the token's, within what the issuer may grant. */
  scopes: readonly Scope[];
  /** `user` for a clinician, `patient` for a patient's own token, `system` for a system. */
  context: 'system' | 'user' | 'patient';
  name?: string;
  /** ISCO-08 code of the subject's role. */
  role?: string;
  organization?: string;
  organizationId?: string;
  purpose?: PurposeOfUse;
  /** Why break-glass was invoked, when it was. */
  breakGlassReason?: string;
  /** `system|value` of the patient the token is bound to (`person_id`). */
  personId?: string;
}
