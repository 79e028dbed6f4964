import type { AuditEvent, Bundle } from 'fhir/r4.js';
import { isResourceOf } from '../fhir/resources.js';

/** One line of a patient's access log, as the page shows it. */
export interface AccessLogRow {
  recorded: string;
  who: string | undefined;
  /** The patient themselves (a token for their own identifier, through this portal or otherwise). */
  self: boolean;
  country: string | undefined;
  organisation: string | undefined;
  /** ISCO-08 code. */
  role: string | undefined;
  purpose: string | undefined;
  what: 'summary' | 'identify' | 'consent' | 'log' | 'other';
  permitted: boolean;
  breakGlass: boolean;
  breakGlassReason: string | undefined;
}

const ISCO_08 = 'urn:oid:2.16.840.1.113883.2.9.6.2.7';

function whatOf(event: AuditEvent): AccessLogRow['what'] {
  // What was reached (object role 4); the consent decision's own entity names a Consent too, so it is left out.
  const reached = (event.entity ?? []).filter((e) => e.role?.code === '4').map((e) => e.what?.reference ?? '');
  const interaction = event.subtype?.[0]?.code;
  if (interaction === 'operation' || reached.some((r) => r.startsWith('Bundle/') || r.includes('$summary'))) return 'summary';
  if (interaction === 'create' || interaction === 'update' || reached.some((r) => r.startsWith('Consent/'))) return 'consent';
  if (interaction === 'search-type' && reached.some((r) => r.startsWith('Patient/') || r.includes('Patient?'))) return 'identify';
  // A search reaching nothing: the patient's own access log, or a clinician's search that found nobody.
  if (interaction === 'search-type') return event.purposeOfEvent?.[0]?.coding?.[0]?.code === 'PATRQT' ? 'log' : 'identify';
  return 'other';
}

/**
 * The rows of a patient's access log from the node's AuditEvent search: when, who, from which
 * country (the client's), organisation, ISCO-08 role, purpose, whether it was allowed and whether
 * break-glass was used. `self` is the patient's own subject at this node's identity provider.
 */
export function accessLogRows(bundle: Bundle, self: { issuer: string; subject: string }): AccessLogRow[] {
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((e): e is AuditEvent => isResourceOf(e, 'AuditEvent'))
    .map((event) => {
      const requester = event.agent?.find((a) => a.requestor);
      const organisation = event.agent?.find((a) => a.type?.coding?.some((c) => c.code === 'PROV'));
      const client = event.agent?.find((a) => a.type?.coding?.some((c) => c.code === '110153'));
      const decision = event.entity?.find((e) => e.type?.code === 'Consent')?.detail?.find((d) => d.type === 'decision')?.valueString;
      const whoId = requester?.who?.identifier;
      return {
        recorded: event.recorded,
        who: requester?.who?.display,
        self: whoId?.system === self.issuer && whoId.value === self.subject,
        country: /client of ([A-Z]{2})/.exec(client?.who?.display ?? '')?.[1],
        organisation: organisation?.who?.display,
        role: requester?.role?.flatMap((r) => r.coding ?? []).find((c) => c.system === ISCO_08)?.code,
        purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.code,
        what: whatOf(event),
        permitted: event.outcome === '0' && decision !== 'deny',
        breakGlass: (event.meta?.tag ?? []).some((t) => t.code === 'break-glass'),
        breakGlassReason: requester?.purposeOfUse?.[0]?.text,
      };
    });
}
