import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import type { Consent, Resource } from 'fhir/r4.js';
import Joi from 'joi';
import { isResourceOf } from '../../fhir/resources.js';
import { accessLogRows } from '../access-log-view.js';
import { choicesFromConsent, consentFromChoices, HIDEABLE_SECTIONS, type ConsentChoices } from '../consent-choices.js';
import type { Caller } from '../node-api.js';
import { languageOf, seeOther, textOf, type PortalContext } from '../portal-context.js';
import { refusalOf } from '../refusals.js';
import { sessionOfKind, type PortalSession } from '../session.js';
import { summaryView } from '../summary-view.js';

/** A Consent's version from its `meta`, for `If-Match`. */
const versionOf = (consent: Consent) => consent.meta?.versionId;

/** The resources of a searchset the node answered (none when it answered something else). */
const resourcesOf = (answer: Resource | undefined) => (isResourceOf(answer, 'Bundle') ? (answer.entry ?? []) : []).map((e) => e.resource);

/**
 * The patient's pages: their summary (read-only, in their language), who read it (the access log
 * of this node), and their consent, written as a FHIR Consent through the node's API and in force
 * from the next request. Every page is requests to the node as the patient (a token bound to
 * their own identifier), so the patient sees and changes only their own.
 */
export function patientRoutes(ctx: PortalContext): ServerRoute[] {
  const caller = (session: PortalSession): Caller => ({ person: session.person });
  const countries = () => (ctx.directory?.peers() ?? []).map((n) => n.country);

  const refusal = (request: Request, h: ResponseToolkit, status: number, body?: Resource, headers: Record<string, string> = {}) => {
    const view = refusalOf(request, { status, body, headers }, ctx.country);
    return h.view('refusal', { title: textOf(request, 'refusal_title'), ...view, patientPage: true }).code(view.status);
  };

  /** The patient's id at this node, through a search by their own identifier. */
  async function patientId(session: PortalSession): Promise<{ id?: string; status: number; body?: Resource; headers: Record<string, string> }> {
    const answer = await ctx.api.get('Patient', { identifier: session.person.personId }, caller(session));
    if (answer.status !== 200) return { status: answer.status, ...(answer.body ? { body: answer.body } : {}), headers: answer.headers };
    const patient = resourcesOf(answer.body).find((r) => isResourceOf(r, 'Patient'));
    return typeof patient?.id === 'string' ? { id: patient.id, status: 200, headers: {} } : { status: 404, headers: {} };
  }

  /** The patient's Consent in force: the newest active one. */
  async function consentInForce(session: PortalSession, id: string): Promise<{ consent?: Consent; status: number }> {
    const answer = await ctx.api.get('Consent', { patient: id }, caller(session));
    if (answer.status !== 200) return { status: answer.status };
    const consents = resourcesOf(answer.body).filter((r): r is Consent => isResourceOf(r, 'Consent') && r.status === 'active');
    consents.sort((a, b) => Date.parse(String(b.dateTime)) - Date.parse(String(a.dateTime)));
    return { ...(consents[0] ? { consent: consents[0] } : {}), status: 200 };
  }

  return [
    {
      method: 'GET',
      path: '/patient',
      async handler(request, h) {
        const session = sessionOfKind(request, 'patient');
        const lang = languageOf(request);
        const answer = await ctx.api.get('Patient/$summary', { identifier: session.person.personId }, caller(session), lang);
        if (answer.status !== 200 || !isResourceOf(answer.body, 'Bundle')) return refusal(request, h, answer.status, answer.body, answer.headers);
        const view = summaryView(answer.body, lang);
        return h.view('patient-summary', { title: textOf(request, 'patient_summary_title'), summary: view, readerDifferent: view.language !== undefined && view.language.split('-')[0] !== lang });
      },
    },
    {
      method: 'GET',
      path: '/patient/access-log',
      async handler(request, h) {
        const session = sessionOfKind(request, 'patient');
        const found = await patientId(session);
        if (!found.id) return refusal(request, h, found.status, found.body, found.headers);
        const answer = await ctx.api.get('AuditEvent', { patient: found.id, _count: '100' }, caller(session));
        if (answer.status !== 200 || !isResourceOf(answer.body, 'Bundle')) return refusal(request, h, answer.status, answer.body, answer.headers);
        const rows = accessLogRows(answer.body, { issuer: ctx.tokenIssuer, subject: session.person.subject });
        return h.view('access-log', { title: textOf(request, 'log_title'), rows: rows.map((r) => ({ ...r, whatKey: `what_${r.what}` })) });
      },
    },
    {
      method: 'GET',
      path: '/patient/consent',
      options: { validate: { query: Joi.object({ saved: Joi.valid('1') }) } },
      async handler(request, h) {
        const session = sessionOfKind(request, 'patient');
        const found = await patientId(session);
        if (!found.id) return refusal(request, h, found.status, found.body, found.headers);
        const inForce = await consentInForce(session, found.id);
        if (inForce.status !== 200) return refusal(request, h, inForce.status);
        const read = inForce.consent ? choicesFromConsent(inForce.consent, countries()) : undefined;
        const choices: ConsentChoices = read?.choices ?? { share: ctx.consentDefault === 'opt-out', countries: Object.fromEntries(countries().map((c) => [c, 'all' as const])), hiddenSections: [] };
        return h.view('consent', {
          title: textOf(request, 'consent_title'),
          saved: request.query['saved'] === '1',
          recorded: inForce.consent?.dateTime,
          none: !inForce.consent,
          optIn: ctx.consentDefault === 'opt-in',
          unsupported: read?.unsupported ?? false,
          share: choices.share,
          countries: Object.entries(choices.countries).map(([code, scope]) => ({ code, all: scope === 'all', emergency: scope === 'emergency', none: scope === 'none' })),
          sections: HIDEABLE_SECTIONS.map((code) => ({ code, key: `sec_${code.replace('-', '_')}`, hidden: choices.hiddenSections.includes(code) })),
        });
      },
    },
    {
      method: 'POST',
      path: '/patient/consent',
      async handler(request, h) {
        const session = sessionOfKind(request, 'patient');
        const payload = (request.payload ?? {}) as Record<string, unknown>;
        const hidden = ([] as unknown[]).concat(payload['sections'] ?? []).filter((s): s is string => typeof s === 'string' && (HIDEABLE_SECTIONS as readonly string[]).includes(s));
        const choices: ConsentChoices = {
          share: payload['share'] === 'permit',
          countries: Object.fromEntries(
            countries().map((c) => {
              const v = payload[`country_${c}`];
              return [c, v === 'emergency' || v === 'none' ? v : 'all'];
            }),
          ),
          hiddenSections: hidden,
        };
        const found = await patientId(session);
        if (!found.id) return refusal(request, h, found.status, found.body, found.headers);
        const inForce = await consentInForce(session, found.id);
        if (inForce.status !== 200) return refusal(request, h, inForce.status);
        const consent = consentFromChoices(choices, found.id);
        const existing = inForce.consent;
        const answer =
          existing && typeof existing.id === 'string'
            ? await ctx.api.write('PUT', `Consent/${existing.id}`, { ...consent, id: existing.id }, caller(session), versionOf(existing) ? `W/"${versionOf(existing)}"` : undefined)
            : await ctx.api.write('POST', 'Consent', consent, caller(session));
        if (answer.status !== 200 && answer.status !== 201) return refusal(request, h, answer.status, answer.body, answer.headers);
        return seeOther(h, '/patient/consent?saved=1');
      },
    },
  ];
}
