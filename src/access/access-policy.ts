import { BREAK_GLASS_PURPOSES, type Requester } from '../auth/requester.js';

/**
 * Who may do what at this node: every "who may" rule in one place, used by the patient-data gate,
 * the services, the consent decision and the routes. Scopes (SMART v2, checked per route by the
 * authentication plugin) say what a token may touch at all; these rules say which requester a
 * route serves and how. The patient's consent is decided in `consent/consent-decision.ts`, on the
 * facts these rules name (a clinician's role and purpose).
 *
 * `ACCESS_RULES` lists them in words for docs/security.md; `test/access/access-policy.test.ts`
 * checks that the table there is this one, and that each rule behaves as it says.
 */

/** Who a requester is, as the rules tell them apart. */
export type RequesterKind =
  | 'hospital-system'
  | 'operator'
  | 'patient'
  | 'clinician'
  | 'peer-node-for-clinician'
  | 'peer-node'
  | 'other';

/** The kind of `requester`: by the issuer's kind in the trust list and the token's context. */
export function kindOf(requester: Requester): RequesterKind {
  if (requester.context === 'patient') return 'patient';
  if (requester.issuerKind === 'hospital-system' && requester.context === 'system') return 'hospital-system';
  if (requester.issuerKind === 'operator') return 'operator';
  if (requester.issuerKind === 'identity-provider' && requester.context === 'user') return 'clinician';
  if (requester.issuerKind === 'peer-node') return requester.context === 'user' ? 'peer-node-for-clinician' : 'peer-node';
  return 'other';
}

/**
 * A hospital system of this country: the source of the data. It may know whether a patient or
 * document exists here (404); everyone else gets the one refusal for unknown and refused alike.
 */
export function isDataSource(requester: Requester): boolean {
  return kindOf(requester) === 'hospital-system';
}

/** Patients are searched by demographics only by the data's source; everyone else names an identifier. */
export function maySearchByDemographics(requester: Requester): boolean {
  return isDataSource(requester);
}

/** Operators read Consents (to answer a patient's questions) without reading any clinical data. */
export function mayReadConsentsWithoutData(requester: Requester): boolean {
  return kindOf(requester) === 'operator';
}

/** Consents are written by the patient (their own) or a hospital system of this country; never by clinicians. */
export function mayManageConsents(requester: Requester): boolean {
  const kind = kindOf(requester);
  return kind === 'patient' || kind === 'hospital-system';
}

/** Whose access log a requester may read: any patient's (operators), their own (patients), or none. */
export function accessLogReach(requester: Requester): 'any' | 'own' | 'none' {
  const kind = kindOf(requester);
  return kind === 'operator' ? 'any' : kind === 'patient' ? 'own' : 'none';
}

/** This node fetches summaries from other Member States for this country's clinicians only. */
export function mayFetchAbroad(requester: Requester): boolean {
  return kindOf(requester) === 'clinician';
}

/** A peer node gets summaries signed by this node, so that the clinician's node can check their origin. */
export function receivesSignedSummaries(requester: Requester): boolean {
  return requester.issuerKind === 'peer-node';
}

/** Translation happens at the reader's node: a peer node gets the summary as stored (and signed). */
export function receivesTranslations(requester: Requester): boolean {
  return requester.issuerKind !== 'peer-node';
}

/** Purposes of use under which a clinician may read a summary (v3-ActReason). */
export const READ_PURPOSES: ReadonlySet<string> = new Set(['TREAT', 'ETREAT', 'BTG']);

/** ISCO-08 is hierarchical: a rule for `221` (medical doctors) covers `2211` and `2212`. */
export function roleMatches(ruleRole: string, requesterRole: string | undefined): boolean {
  return requesterRole !== undefined && requesterRole.startsWith(ruleRole);
}

/** Whether a clinician's role is one the node lets read summaries (`PONTIS_READ_ROLES`). */
export function roleMayRead(readRoles: readonly string[], requester: Requester): boolean {
  return readRoles.some((r) => roleMatches(r, requester.role));
}

/** Whether a clinician asks for a purpose that allows reading a summary. */
export function purposeMayRead(requester: Requester): boolean {
  return requester.purpose !== undefined && READ_PURPOSES.has(requester.purpose);
}

/** Break-glass: an emergency purpose with a reason (without one, it is refused). */
export function invokesBreakGlass(requester: Requester): boolean {
  return requester.purpose !== undefined && BREAK_GLASS_PURPOSES.has(requester.purpose);
}

/** One rule in words: what, who may, and how it is decided. */
export interface AccessRule {
  action: string;
  who: string;
  decided: string;
}

/** Every rule, in words: docs/security.md carries this table, and a test keeps them equal. */
export const ACCESS_RULES: readonly AccessRule[] = [
  { action: 'push or update a summary', who: 'hospital system of this country (`system/Bundle.c`, `.u`)', decided: 'scope; the document must validate' },
  { action: "read a patient's summary, Patient or Bundle", who: 'hospital system of this country; the patient (own data); a clinician of this country or through a peer node', decided: 'consent decision (role in `PONTIS_READ_ROLES`, purpose TREAT/ETREAT/BTG, Consent or the node default, break-glass policy) and the requester\'s budget for the patient' },
  { action: 'learn that a patient or document is not known here', who: 'hospital system of this country only (404)', decided: 'everyone else gets the refusal given to a refused request: same status, body, headers, counts, store operations' },
  { action: 'search Patients by demographics', who: 'hospital system of this country', decided: 'others must name an identifier and see only whom the decision lets them' },
  { action: 'write a Consent', who: "the patient (own), a hospital system of this country", decided: 'never a clinician; then the consent decision for that patient' },
  { action: 'read Consents', who: 'those who may write them; an operator', decided: 'operators read Consents without any clinical data' },
  { action: "read a patient's access log", who: 'the patient (own); an operator', decided: 'the patient through the consent decision (own data)' },
  { action: 'fetch a summary from another Member State', who: "a clinician of this country (this country's identity provider)", decided: 'then the home node decides, on the clinician\'s identity carried in a token this node signs' },
  { action: 'receive a summary signed by this node', who: 'a peer node', decided: 'every summary a peer node reads is signed' },
  { action: 'receive a translated summary', who: 'everyone but a peer node', decided: 'translation happens at the reader\'s node, after the signature is checked' },
  { action: 'witness audit checkpoints', who: 'a peer node in its own name', decided: 'the checkpoint must be signed by that node\'s key' },
];

/** The rules as a Markdown table (docs/security.md, "Who may do what"). */
export function accessRulesTable(): string {
  const rows = ACCESS_RULES.map((r) => `| ${r.action} | ${r.who} | ${r.decided} |`);
  return ['| what | who may | decided by |', '|---|---|---|', ...rows].join('\n');
}
