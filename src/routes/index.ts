import type { ServerRoute } from '@hapi/hapi';
import { auditEventSearchRoute } from './audit-event-search.js';
import { auditWitnessRoutes } from './audit-witness.js';
import { bundleCreateRoute } from './bundle-create.js';
import { bundleReadRoutes } from './bundle-read.js';
import { bundleUpdateRoute } from './bundle-update.js';
import { consentRoutes } from './consent.js';
import { metadataRoute, operationDefinitionRoute } from './metadata.js';
import { nodeKeysRoute } from './node-keys.js';
import { patientReadRoute } from './patient-read.js';
import { patientSearchRoute } from './patient-search.js';
import { patientSummaryRoutes } from './patient-summary.js';
import { resourceValidateRoute } from './resource-validate.js';
import { methodNotAllowed } from './method-not-allowed.js';
import type { RouteContext } from './route-context.js';

export { methodNotAllowed } from './method-not-allowed.js';

/** Every route of the FHIR API. */
export function fhirRoutes(ctx: RouteContext): ServerRoute[] {
  const routes: ServerRoute[] = [
    operationDefinitionRoute(),
    bundleCreateRoute(ctx),
    bundleUpdateRoute(ctx),
    ...bundleReadRoutes(ctx),
    patientReadRoute(ctx),
    patientSearchRoute(ctx),
    ...patientSummaryRoutes(ctx),
    resourceValidateRoute(ctx),
    ...consentRoutes(ctx),
    auditEventSearchRoute(ctx),
    ...(ctx.witness ? auditWitnessRoutes(ctx.witness) : []),
    ...(ctx.exchange ? [nodeKeysRoute(ctx.exchange.identity)] : []),
  ];
  routes.unshift(metadataRoute(ctx.config, routes));
  return [...routes, ...methodNotAllowed(routes)];
}
