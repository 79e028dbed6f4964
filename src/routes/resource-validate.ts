import type { ServerRoute } from '@hapi/hapi';
import type { FhirResource, OperationDefinition } from 'fhir/r4.js';
import Joi from 'joi';
import { checkDocumentRules } from '../documents/document-rules.js';
import { fhirError, operationOutcome, type Problem } from '../fhir/operation-outcome.js';
import { parseResourceBody } from '../fhir/resource-body.js';
import { isResourceOf } from '../fhir/resources.js';
import type { RouteContext } from './route-context.js';
import { failAction, fhirJsonPayload, querySchema } from './validation.js';

/** The FHIR `$validate` operation as this node implements it. */
export const validateOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Resource-validate',
  url: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  name: 'Validate',
  status: 'active',
  kind: 'operation',
  affectsState: false,
  code: 'validate',
  resource: ['Resource'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource' },
    { name: 'profile', use: 'in', min: 0, max: '1', type: 'uri' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome' },
  ],
};

/**
 * The resource and profile of a `$validate` body: a raw resource, or Parameters carrying them.
 * Nothing here is validated yet, so each element is tested before use.
 */
function unwrap(body: FhirResource, type: string): { resource: object; profile?: string } {
  if (body.resourceType !== 'Parameters' || type === 'Parameters') return { resource: body };
  const parameters = Array.isArray(body.parameter) ? body.parameter : [];
  const resource: unknown = parameters.find((p) => p.name === 'resource')?.resource;
  const profileParam = parameters.find((p) => p.name === 'profile');
  const profile: unknown = profileParam?.valueUri ?? profileParam?.valueCanonical ?? profileParam?.valueString;
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw fhirError(400, { code: 'required', expression: 'Parameters.parameter', message: 'Parameters needs a "resource" parameter with the resource to validate' });
  }
  return { resource, ...(typeof profile === 'string' ? { profile } : {}) };
}

/**
 * A document Bundle answers to the same rules at `$validate` as at a push: the document rules
 * (identity, one Patient, self-contained references) join the profile validator's findings, each
 * problem once (the validator reports dangling references at the same FHIRPath).
 */
function withDocumentRules(resource: FhirResource, issues: readonly Problem[]): readonly Problem[] {
  if (resource.resourceType !== 'Bundle' || resource.type !== 'document') return issues;
  const check = checkDocumentRules(resource);
  if (check.ok) return issues;
  const reported = new Set(issues.filter((i) => (i.severity ?? 'error') === 'error').map((i) => i.expression));
  return [...check.problems.filter((p) => !reported.has(p.expression)), ...issues];
}

/** `POST /fhir/{type}/$validate[?profile=]`: an OperationOutcome, 200 whatever it finds. */
export function resourceValidateRoute(ctx: RouteContext): ServerRoute {
  return {
    method: 'POST',
    path: '/fhir/{type}/$validate',
    options: {
      payload: fhirJsonPayload(ctx.config.maxPayloadBytes),
      // Validates what the caller sent and stores nothing: no stored patient data is touched.
      plugins: { pontis: { audit: false } },
      validate: {
        params: Joi.object({ type: Joi.string().pattern(/^[A-Z][A-Za-z]{1,63}$/).required() }),
        query: querySchema({ profile: Joi.string().max(1024), mode: Joi.string().valid('create', 'update') }),
        failAction,
      },
    },
    async handler(request, h) {
      const type = request.params['type'] as string;
      if (!ctx.validator.knowsType(type)) throw fhirError(404, { code: 'not-supported', message: `${type} is not a FHIR R4 resource type` });
      const body = parseResourceBody(request.payload, type, ['Parameters']);
      const { resource, profile: bodyProfile } = unwrap(body, type);
      const profile = (request.query['profile'] as string | undefined) ?? bodyProfile;
      if (profile !== undefined && !ctx.validator.knows(profile)) {
        throw fhirError(400, { code: 'not-supported', expression: 'profile', message: `profile ${profile} is not known to this node` });
      }
      if (!isResourceOf(resource, type)) {
        throw fhirError(400, { code: 'invalid', expression: 'resourceType', message: `this endpoint validates ${type}, not ${String('resourceType' in resource ? resource.resourceType : undefined)}` });
      }
      // A document is judged as a push would judge it: against the node's document profile too.
      const document = resource.resourceType === 'Bundle' && resource.type === 'document';
      const issues = await ctx.validator.validate(resource, profile ?? (document ? ctx.config.documentProfile : undefined));
      return h.response(operationOutcome(withDocumentRules(resource, issues)));
    },
  };
}
