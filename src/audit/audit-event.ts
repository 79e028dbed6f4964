import type { AuditEvent } from 'fhir/r4.js';
import type { AccessContext } from '../access/access-context.js';
import { auditFactsOf, type AuditFacts } from '../access/audit-facts.js';
import { ACT_REASON, ISCO_08, ISCO_ROLE_NAMES } from '../auth/requester.js';

/** What the audit plugin knows of one request once its response is decided. */
export interface AuditedRequest {
  access: AccessContext;
  /** What the request touched and was decided, as the gate recorded it; read from `access` when absent. */
  facts?: AuditFacts;
  /** Restful interaction (BALP): create, update, read, vread, history-instance, search-type, operation. */
  interaction: string;
  action: 'C' | 'R' | 'U' | 'E';
  resourceType: string;
  status: number;
  /** The refusal's message, never data: shown to the patient in their access log. */
  outcomeMessage?: string;
  nodeCountry: string;
  nodeBaseUrl: string;
}

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
/** Tag on records of break-glass access, so that the patient's access log shows them. */
export const BREAK_GLASS_TAG = { system: 'https://pontis.example.eu/fhir/CodeSystem/audit-flag', code: 'break-glass', display: 'Break-glass access' };
/** Purpose of use of a break-glass access (HL7 v3-ActReason). */
export const BREAK_THE_GLASS = { system: ACT_REASON, code: 'BTG', display: 'break the glass' };
/** Tag on records of requests refused for going over a request budget (429). */
export const THROTTLED_TAG = { system: BREAK_GLASS_TAG.system, code: 'throttled', display: 'Refused: over a request budget' };
/** Tag on break-glass reads let through although over the requester's budget for the patient. */
export const OVER_BUDGET_TAG = { system: BREAK_GLASS_TAG.system, code: 'over-budget', display: 'Break-glass read over the request budget' };

function balpProfile(request: AuditedRequest): string {
  const read = request.action === 'R' || request.action === 'E';
  if (request.resourceType === 'Consent') return `${BALP}/IHE.BasicAudit.${read ? 'PatientRead' : request.action === 'C' ? 'PatientCreate' : 'PatientUpdate'}`;
  if (request.interaction === 'search-type') return `${BALP}/IHE.BasicAudit.PatientQuery`;
  if (read) return `${BALP}/IHE.BasicAudit.PatientRead`;
  return `${BALP}/IHE.BasicAudit.${request.action === 'C' ? 'PatientCreate' : 'PatientUpdate'}`;
}

/** FHIR outcome code of an HTTP status: success, minor failure (refused), serious failure. */
function outcomeOf(status: number): AuditEvent['outcome'] {
  if (status < 400) return '0';
  return status >= 500 ? '8' : '4';
}

/**
 * The AuditEvent of one request that touched patient data (IHE BALP shapes): who asked (person,
 * role, organisation, country, client), why (purpose), what (patients, resources, the consent
 * decision), the request id, and the outcome. Refused requests are recorded too.
 */
export function auditEventOf(request: AuditedRequest, id: string, recorded: Date): AuditEvent {
  const { access } = request;
  const facts = request.facts ?? auditFactsOf(access);
  const r = access.requester;
  const decision = facts.decision;
  const tags = [
    ...(facts.breakGlass ? [BREAK_GLASS_TAG] : []),
    ...(facts.overBudget ? [OVER_BUDGET_TAG] : []),
    ...(facts.throttled && request.status === 429 ? [THROTTLED_TAG] : []),
  ];
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id,
    meta: { profile: [balpProfile(request)], ...(tags.length > 0 ? { tag: tags } : {}) },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: request.interaction }],
    action: request.action,
    recorded: recorded.toISOString(),
    outcome: outcomeOf(request.status),
    outcomeDesc: request.status < 400 ? `HTTP ${request.status}` : `HTTP ${request.status}: ${request.outcomeMessage ?? 'refused'}`,
    ...(r?.purpose ? { purposeOfEvent: [{ coding: [{ system: ACT_REASON, code: r.purpose }] }] } : {}),
    agent: [
      r
        ? {
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
            who: { identifier: { system: r.issuer, value: r.subject }, ...(r.name ? { display: r.name } : {}) },
            ...(r.role ? { role: [{ coding: [{ system: ISCO_08, code: r.role, ...(ISCO_ROLE_NAMES[r.role] ? { display: ISCO_ROLE_NAMES[r.role] } : {}) }] }] } : {}),
            requestor: true,
            // Coded as break-the-glass (v3-ActReason BTG); the clinician's reason kept as its text.
            ...(r.breakGlassReason ? { purposeOfUse: [{ coding: [BREAK_THE_GLASS], text: r.breakGlassReason }] } : {}),
            policy: [r.tokenId],
          }
        : {
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
            who: { display: 'unauthenticated requester' },
            requestor: true,
          },
      ...(r && (r.organization || r.organizationId)
        ? [
            {
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }] },
              who: { ...(r.organizationId ? { identifier: { value: r.organizationId } } : {}), ...(r.organization ? { display: r.organization } : {}) },
              requestor: false,
            },
          ]
        : []),
      {
        type: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110153', display: 'Source Role ID' }] },
        who: r ? { identifier: { system: r.issuer, value: r.clientId }, display: `client of ${r.country}` } : { display: 'unknown client' },
        requestor: false,
      },
    ],
    source: {
      site: request.nodeCountry,
      observer: { display: `Pontis node ${request.nodeCountry} (${request.nodeBaseUrl})` },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      ...facts.patients.map((p) => ({
        what: { reference: `Patient/${p}` },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      })),
      ...facts.resources.map((ref) => ({
        what: { reference: ref },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
      })),
      ...(decision
        ? [
            {
              ...(decision.consentId ? { what: { reference: `Consent/${decision.consentId}` } } : {}),
              type: { system: 'http://hl7.org/fhir/resource-types', code: 'Consent' },
              description: decision.basis,
              detail: [
                { type: 'decision', valueString: decision.outcome },
                ...(decision.withheldSections.length > 0 ? [{ type: 'withheld-sections', valueString: decision.withheldSections.join(' ') }] : []),
              ],
            },
          ]
        : []),
      {
        what: { identifier: { value: access.requestId } },
        type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' },
      },
    ],
  };
  return event;
}
