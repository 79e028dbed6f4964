import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import type { Identifier, Patient } from 'fhir/r4.js';
import { isResourceOf } from '../../fhir/resources.js';
import type { MessageKey } from '../i18n/en.js';
import { languageOf, seeOther, textOf, type PortalContext } from '../portal-context.js';
import { refusalOf } from '../refusals.js';
import { sessionOfKind, type Consultation, type MinimalPatient, type PortalSession } from '../session.js';
import { summaryView } from '../summary-view.js';
import type { Caller } from '../node-api.js';

/** What the find form sends. */
interface FindForm {
  country?: string;
  identifier?: string;
  family?: string;
  given?: string;
  birthdate?: string;
  gender?: string;
  purpose?: string;
  reason?: string;
}

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9.\-/]{0,63}$/;
const BIRTHDATE = /^\d{4}-\d{2}-\d{2}$/;
const GENDERS = ['male', 'female', 'other', 'unknown'];

/** The countries a clinician may choose: this one and its peers, by name in the reader's language. */
function countryChoices(ctx: PortalContext): Array<{ code: string; system: string }> {
  const nodes = ctx.directory ? [ctx.directory.self, ...ctx.directory.peers()] : [];
  return nodes.filter((n) => n.identifierSystems.length > 0).map((n) => ({ code: n.country, system: n.identifierSystems[0]! }));
}

/** The caller of a consultation's requests: the clinician, for the purpose they stated. */
export function callerOf(session: PortalSession, consultation: Consultation): Caller {
  return { person: session.person, purpose: consultation.purpose === 'ETREAT' ? { purpose: 'ETREAT', reason: consultation.reason ?? '' } : { purpose: 'TREAT' } };
}

/** An identifier that names its system and value: the ones a clinician can check. */
const isComplete = (i: Identifier): i is Identifier & { system: string; value: string } => typeof i.system === 'string' && typeof i.value === 'string';

function minimalPatientOf(patient: Patient): MinimalPatient {
  const name = patient.name?.[0];
  return {
    name: name?.text ?? [...(name?.given ?? []), name?.family].filter(Boolean).join(' '),
    ...(typeof patient.birthDate === 'string' ? { birthDate: patient.birthDate } : {}),
    ...(typeof patient.gender === 'string' ? { gender: patient.gender } : {}),
    identifiers: (patient.identifier ?? []).filter(isComplete).slice(0, 5),
  };
}

/** The demographics query parameters of a consultation. */
function demographicsQuery(c: Consultation): Record<string, string | undefined> {
  return { family: c.demographics.family, given: c.demographics.given, birthdate: c.demographics.birthdate, gender: c.demographics.gender };
}

/**
 * The clinician's pages: find the patient (country, national identifier, confirming details,
 * purpose stated first), confirm identity on the minimal Patient the home node returns, then the
 * summary in the reader's language, and its A4 print view. Each step is a request to the node's
 * FHIR API as the clinician.
 */
export function clinicianRoutes(ctx: PortalContext): ServerRoute[] {
  const findPage = (request: Request, h: ResponseToolkit, form: FindForm, errors: Array<{ field: string; key: MessageKey }>, notice?: MessageKey) =>
    h
      .view('find', {
        title: textOf(request, 'find_title'),
        countries: countryChoices(ctx).map((c) => ({ ...c, selected: c.code === (form.country ?? '') })),
        form,
        emergency: form.purpose === 'emergency',
        treat: form.purpose !== 'emergency',
        errors: errors.map((e) => ({ ...e, text: textOf(request, e.key) })),
        error: Object.fromEntries(errors.map((e) => [e.field, textOf(request, e.key)])),
        notice: notice ? textOf(request, notice) : undefined,
        demographicsOpen: notice === 'multiple_matches' || !!(form.family || form.given || form.birthdate || form.gender),
        genders: GENDERS.map((g) => ({ code: g, key: `gender_${g}`, selected: g === form.gender })),
      })
      .code(errors.length > 0 ? 400 : notice ? 409 : 200);

  const refusalPage = (request: Request, h: ResponseToolkit, status: number, view: { message: string; todo: string | undefined }) =>
    h.view('refusal', { title: textOf(request, 'refusal_title'), ...view }).code(status);

  /** Reads the summary of the consultation's patient through the node's API, and renders it. */
  async function summaryPage(request: Request, h: ResponseToolkit, template: 'summary' | 'print') {
    const session = sessionOfKind(request, 'clinician');
    const consultation = session.consultation;
    if (!consultation?.confirmed) return seeOther(h, '/clinician/find');
    const lang = languageOf(request);
    const answer = await ctx.api.get('Patient/$summary', { identifier: `${consultation.system}|${consultation.value}`, ...demographicsQuery(consultation) }, callerOf(session, consultation), lang);
    if (answer.status !== 200 || !isResourceOf(answer.body, 'Bundle')) {
      const refusal = refusalOf(request, answer, consultation.country);
      return refusalPage(request, h, refusal.status, refusal);
    }
    const view = summaryView(answer.body, lang);
    const origin = answer.headers['x-pontis-origin']?.split(' ')[0];
    return h.view(
      template,
      {
        title: `${textOf(request, 'summary_title')}: ${view.patient.name}`,
        summary: view,
        origin,
        foreign: origin !== undefined && origin !== ctx.country,
        breakGlass: consultation.purpose === 'ETREAT' ? consultation.reason : undefined,
        readerDifferent: view.language !== undefined && view.language.split('-')[0] !== lang,
        now: new Date().toISOString(),
      },
      template === 'print' ? { layout: 'print' } : {},
    );
  }

  return [
    {
      method: 'GET',
      path: '/clinician/find',
      handler(request, h) {
        const session = sessionOfKind(request, 'clinician');
        const c = session.consultation;
        const form: FindForm = c
          ? { country: c.country, identifier: c.value, ...c.demographics, purpose: c.purpose === 'ETREAT' ? 'emergency' : 'treat', ...(c.reason ? { reason: c.reason } : {}) }
          : { country: ctx.directory?.peers()[0]?.country ?? ctx.country, purpose: 'treat' };
        return findPage(request, h, form, []);
      },
    },
    {
      method: 'POST',
      path: '/clinician/find',
      async handler(request, h) {
        const session = sessionOfKind(request, 'clinician');
        const payload = (request.payload ?? {}) as Record<string, unknown>;
        const field = (name: keyof FindForm) => (typeof payload[name] === 'string' ? (payload[name] as string).trim().slice(0, 200) : '');
        const form: FindForm = {
          country: field('country'),
          identifier: field('identifier'),
          family: field('family'),
          given: field('given'),
          birthdate: field('birthdate'),
          gender: field('gender'),
          purpose: field('purpose'),
          reason: field('reason'),
        };
        const errors: Array<{ field: string; key: MessageKey }> = [];
        const home = countryChoices(ctx).find((c) => c.code === form.country);
        if (!home) errors.push({ field: 'country', key: 'err_country' });
        if (!form.identifier) errors.push({ field: 'identifier', key: 'err_identifier' });
        else if (!IDENTIFIER.test(form.identifier)) errors.push({ field: 'identifier', key: 'err_identifier_format' });
        if (form.birthdate && !BIRTHDATE.test(form.birthdate)) errors.push({ field: 'birthdate', key: 'err_birthdate' });
        if (form.gender && !GENDERS.includes(form.gender)) form.gender = '';
        if (form.purpose !== 'treat' && form.purpose !== 'emergency') errors.push({ field: 'purpose', key: 'err_purpose' });
        if (form.purpose === 'emergency' && !form.reason) errors.push({ field: 'reason', key: 'err_reason' });
        if (errors.length > 0 || !home) return findPage(request, h, form, errors);

        const consultation: Consultation = {
          country: home.code,
          system: home.system,
          value: form.identifier!,
          demographics: {
            ...(form.family ? { family: form.family } : {}),
            ...(form.given ? { given: form.given } : {}),
            ...(form.birthdate ? { birthdate: form.birthdate } : {}),
            ...(form.gender ? { gender: form.gender } : {}),
          },
          purpose: form.purpose === 'emergency' ? 'ETREAT' : 'TREAT',
          ...(form.purpose === 'emergency' ? { reason: form.reason! } : {}),
        };
        const answer = await ctx.api.get('Patient', { identifier: `${consultation.system}|${consultation.value}`, ...demographicsQuery(consultation) }, callerOf(session, consultation), languageOf(request));
        if (answer.status === 409) return findPage(request, h, form, [], 'multiple_matches');
        if (answer.status !== 200) {
          const refusal = refusalOf(request, answer, consultation.country);
          return refusalPage(request, h, refusal.status, refusal);
        }
        const patients = (isResourceOf(answer.body, 'Bundle') ? (answer.body.entry ?? []) : []).map((e) => e.resource).filter((r): r is Patient => isResourceOf(r, 'Patient'));
        if (patients.length > 1) return findPage(request, h, form, [], 'multiple_matches');
        if (patients.length === 0) {
          const refusal = refusalOf(request, { status: 404, body: undefined, headers: {} }, consultation.country);
          return refusalPage(request, h, refusal.status, refusal);
        }
        request.cookieAuth.set('consultation', { ...consultation, patient: minimalPatientOf(patients[0]!) });
        return seeOther(h, '/clinician/confirm');
      },
    },
    {
      method: 'GET',
      path: '/clinician/confirm',
      handler(request, h) {
        const session = sessionOfKind(request, 'clinician');
        const c = session.consultation;
        if (!c?.patient) return seeOther(h, '/clinician/find');
        return h.view('confirm', {
          title: textOf(request, 'confirm_title'),
          patient: c.patient,
          genderKey: c.patient.gender ? `gender_${c.patient.gender}` : undefined,
          identifiers: c.patient.identifiers.map((i) => ({ ...i, country: ctx.directory?.homeOf(i.system)?.country })),
        });
      },
    },
    {
      method: 'POST',
      path: '/clinician/confirm',
      handler(request, h) {
        const session = sessionOfKind(request, 'clinician');
        if (!session.consultation?.patient) return seeOther(h, '/clinician/find');
        request.cookieAuth.set('consultation', { ...session.consultation, confirmed: true });
        return seeOther(h, '/clinician/summary');
      },
    },
    { method: 'GET', path: '/clinician/summary', handler: (request, h) => summaryPage(request, h, 'summary') },
    { method: 'GET', path: '/clinician/summary/print', handler: (request, h) => summaryPage(request, h, 'print') },
    {
      method: 'POST',
      path: '/clinician/new',
      handler(request, h) {
        sessionOfKind(request, 'clinician');
        request.cookieAuth.set('consultation', undefined);
        return seeOther(h, '/clinician/find');
      },
    },
  ];
}

