import type { ServerRoute } from '@hapi/hapi';
import { fhirError } from '../fhir/operation-outcome.js';
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
import type { RouteContext } from './route-context.js';

/**
 * For each path, a catch-all route answering 405 with `Allow` for methods the path does not
 * support (hapi alone would answer 404).
 */
export function methodNotAllowed(routes: readonly ServerRoute[]): ServerRoute[] {
  const methods = new Map<string, Set<string>>();
  for (const r of routes) {
    const set = methods.get(r.path) ?? new Set<string>();
    for (const m of [r.method].flat()) set.add(String(m).toUpperCase());
    if (set.has('GET')) set.add('HEAD');
    methods.set(r.path, set);
  }
  return [...methods].map(([path, allowed]) => ({
    method: '*',
    path,
    // A method the path does not have is refused the same for everyone.
    options: { auth: false },
    handler(request) {
      const allow = [...allowed].join(', ');
      const error = fhirError(405, {
        code: 'not-supported',
        message: `${request.method.toUpperCase()} is not supported here; use ${allow}`,
      });
      error.output.headers['Allow'] = allow;
      throw error;
    },
  }));
}

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
