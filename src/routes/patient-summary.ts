import { systemAndValue } from '../fhir/token-parameter.js';
import { receivesSignedSummaries } from '../access/access-policy.js';
import type { ResponseToolkit, ServerRoute } from '@hapi/hapi';
import { signedSummary, type SignedSummary } from '../exchange/summary-signature.js';
import type { Demographics } from '../services/cross-border-service.js';
import type { Access } from '../access/access-context.js';
import type { StoredSummary } from '../services/summary-service.js';
import type { OperationDefinition } from 'fhir/r4.js';
import Joi from 'joi';
import { IPS_BUNDLE_PROFILE } from '../validation/profiles.js';
import { accessContextOf, type PontisRouteSettings } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { inReaderLanguage, readerLanguages } from './reader-language.js';
import { summaryEntityTagOf, summaryResponse } from './responses.js';
import { failAction, fhirId, querySchema } from './validation.js';


/** The IPS `$summary` operation as this node implements it (HL7 IPS 2.0.0). */
export const summaryOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'summary',
  url: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary',
  version: '2.0.0',
  name: 'IPSSummary',
  title: 'IPS Summary',
  status: 'active',
  kind: 'operation',
  affectsState: false,
  code: 'summary',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: true,
  description:
    "Returns the patient's current International Patient Summary document as stored at this node: the most recent document (by Bundle.timestamp) pushed for the patient. " +
    'With Accept-Language, coded displays and section titles are translated into the reader\'s language where the node\'s terminology catalogue has it (the translation extension beside every original; narrative is not translated); without it, the document as written.',
  parameter: [
    { name: 'identifier', use: 'in', min: 0, max: '1', type: 'string', documentation: 'system|value of a patient identifier (type level only)' },
    { name: 'profile', use: 'in', min: 0, max: '1', type: 'canonical', documentation: `only ${IPS_BUNDLE_PROFILE} is supported` },
    { name: 'return', use: 'out', min: 0, max: '1', type: 'Bundle', documentation: 'the IPS document' },
  ],
};

/** A summary is read as a Bundle; every request is audited as a read operation. */
const SUMMARY_SETTINGS = {
  scope: { resourceType: 'Bundle', permission: 'r' },
  audit: { action: 'E', interaction: 'operation', resourceType: 'Bundle' },
} as const satisfies PontisRouteSettings;

const profileParam = Joi.string()
  .pattern(new RegExp(`^${IPS_BUNDLE_PROFILE.replace(/[.]/g, '\\.')}(\\|[0-9.]+)?$`))
  .message(`"profile" is not supported: only ${IPS_BUNDLE_PROFILE} is produced`);

/** Demographics a clinician may add to narrow an identification abroad (passed on to the home node). */
const DEMOGRAPHICS = {
  family: Joi.string().max(100),
  given: Joi.string().max(100),
  birthdate: Joi.string().pattern(/^\d{4}(-\d{2}(-\d{2})?)?$/),
  gender: Joi.string().valid('male', 'female', 'other', 'unknown'),
};

/** The demographics of a query, for {@link CrossBorderService}. */
export function demographicsOf(query: Record<string, unknown>): Demographics {
  return Object.fromEntries(['family', 'given', 'birthdate', 'gender'].filter((k) => typeof query[k] === 'string').map((k) => [k, query[k]])) as Demographics;
}

/**
 * The summary as it leaves: to a peer node, signed by this node (Bundle.signature, see
 * src/exchange/summary-signature.ts), so that the clinician's node can check where it came from.
 * Its strong ETag is the digest of the signed content: a peer that names it in If-None-Match
 * already holds a copy this node signed of exactly what it would send now, and gets a 304 (hapi
 * compares the tags) once consent and audit have run, as for any read; a copy withholding other
 * sections, or of another version, has another digest and is sent.
 */
async function signedForPeers(ctx: RouteContext, access: Access, h: ResponseToolkit, stored: Omit<StoredSummary, 'record'>) {
  if (!receivesSignedSummaries(access.requester) || !ctx.exchange) return summaryResponse(h, stored);
  // Signing 100 KB costs about 1 ms: a signed copy of the same stored bytes is reused for a while.
  const now = Date.now();
  let signed = signedCopies.get(stored.bytes);
  if (!signed || signed.until <= now) {
    signed = { ...(await signedSummary(stored.bytes, ctx.exchange.identity, ctx.config.baseUrl)), until: now + SIGNATURE_REUSE_MS };
    signedCopies.set(stored.bytes, signed);
  }
  // hapi quotes the tag: `"<digest>"`, as summaryEntityTag writes it for If-None-Match.
  return summaryResponse(h, { ...stored, bytes: signed.bytes }).etag(signed.digest, { weak: false, vary: false });
}

/**
 * A summary stored here, for a reader who sent Accept-Language: in their language when the
 * catalogue has it (a translated copy has its own ETag), else the stored bytes as they are.
 */
function inLanguage(ctx: RouteContext, h: ResponseToolkit, stored: Omit<StoredSummary, 'record'>, languages: readonly string[]) {
  const copy = ctx.translation!.copyFor(stored.bytes, languages);
  const response = summaryResponse(h, { ...stored, bytes: copy.bytes });
  if (copy.translation) response.etag(summaryEntityTagOf(stored, copy.translation.language), { weak: true, vary: false });
  return inReaderLanguage(response, copy);
}

/** How long a signed copy of a summary is reused (its `signature.when` is at most this old). */
const SIGNATURE_REUSE_MS = 60_000;
/** Signed copies by the stored bytes they sign (cached versions keep one Buffer each). */
const signedCopies = new WeakMap<Buffer, SignedSummary & { until: number }>();

/** `$summary` at instance level and at type level by identifier (its OperationDefinition: routes/metadata.ts). */
export function patientSummaryRoutes(ctx: RouteContext): ServerRoute[] {
  return [
    {
      method: 'GET',
      path: '/fhir/Patient/{id}/$summary',
      options: {
        validate: { params: Joi.object({ id: fhirId.required() }), query: querySchema({ profile: profileParam }), failAction },
        plugins: { pontis: SUMMARY_SETTINGS },
      },
      async handler(request, h) {
        const access = accessContextOf(request);
        const languages = readerLanguages(ctx.translation, request, access);
        const stored = await ctx.summaries.currentSummary(request.params['id'] as string, access);
        return languages ? inLanguage(ctx, h, stored, languages) : signedForPeers(ctx, access, h, stored);
      },
    },
    {
      method: 'GET',
      path: '/fhir/Patient/$summary',
      options: {
        validate: {
          query: querySchema({
            identifier: Joi.string()
              .max(512)
              .pattern(/^[^|]+\|[^|]+$/)
              .message('"identifier" must be system|value')
              .required(),
            profile: profileParam,
            ...DEMOGRAPHICS,
          }),
          failAction,
        },
        plugins: { pontis: SUMMARY_SETTINGS },
      },
      async handler(request, h) {
        // The schema takes system|value only: both are there.
        const { system, value } = systemAndValue(request.query['identifier'] as string)!;
        const access = accessContextOf(request);
        const languages = readerLanguages(ctx.translation, request, access);
        const home = ctx.crossBorder?.foreignHome(system, access);
        if (home) {
          // Another Member State's patient: fetched from their home node on the clinician's behalf,
          // and translated only once its signature is verified and its content validated.
          const bytes = await ctx.crossBorder!.summary(home, system, value, demographicsOf(request.query), access);
          const copy = languages ? ctx.translation!.copyFor(bytes, languages, { byContent: true }) : undefined;
          const response = h.response(copy?.bytes ?? bytes).header('X-Pontis-Origin', `${home.country} ${home.baseUrl}`);
          return copy ? inReaderLanguage(response, copy) : response;
        }
        const stored = await ctx.summaries.currentSummaryByIdentifier(system, value, access);
        return languages ? inLanguage(ctx, h, stored, languages) : signedForPeers(ctx, access, h, stored);
      },
    },
  ];
}
