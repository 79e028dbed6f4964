import type { ServerRoute } from '@hapi/hapi';
import type { OperationDefinition } from 'fhir/r4.js';
import Joi from 'joi';
import { IPS_BUNDLE_PROFILE } from '../validation/profiles.js';
import { accessContextOf, type PontisRouteSettings } from '../plugins/authentication.js';
import type { RouteContext } from './route-context.js';
import { summaryResponse } from './responses.js';
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
    "Returns the patient's current International Patient Summary document as stored at this node: the most recent document (by Bundle.timestamp) pushed for the patient.",
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

/** `$summary` at instance level and at type level by identifier; and its OperationDefinition. */
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
        return summaryResponse(h, await ctx.summaries.currentSummary(request.params['id'] as string, accessContextOf(request)));
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
          }),
          failAction,
        },
        plugins: { pontis: SUMMARY_SETTINGS },
      },
      async handler(request, h) {
        const identifier = request.query['identifier'] as string;
        const bar = identifier.indexOf('|');
        return summaryResponse(h, await ctx.summaries.currentSummaryByIdentifier(identifier.slice(0, bar), identifier.slice(bar + 1), accessContextOf(request)));
      },
    },
    {
      method: 'GET',
      path: '/fhir/OperationDefinition/summary',
      options: { auth: false, validate: { query: querySchema({}), failAction } },
      handler: () => summaryOperation,
    },
  ];
}
