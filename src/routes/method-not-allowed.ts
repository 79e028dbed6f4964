import type { ServerRoute } from '@hapi/hapi';
import { fhirError } from '../fhir/operation-outcome.js';

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
