import type { ServerRoute } from '@hapi/hapi';
import type { DocumentDatabase } from '../repositories/document-collection.js';

/** One part the node needs to serve, and whether it is there. */
export interface ReadinessCheck {
  /** Short fixed name (`store`, `profiles`, `trust-list`, `peer-directory`). */
  name: string;
  /** Resolves to undefined when the part is ready, else a short fixed reason (never request data). */
  check(): Promise<string | undefined> | string | undefined;
}

/** What `/health/ready` answers. */
export interface ReadinessReport {
  status: 'ready' | 'not-ready';
  /** Each part: `ok`, or why it is not. */
  checks: Record<string, string>;
}

/**
 * Whether this node instance should be sent requests: every part it needs is there, and it is
 * not shutting down. On SIGTERM {@link Readiness.drain} turns it not-ready at once, so that load
 * balancers stop sending before the listener closes.
 */
export class Readiness {
  private draining = false;

  constructor(private readonly checks: readonly ReadinessCheck[]) {}

  /** From now on the node reports not-ready (shutdown under way). */
  drain(): void {
    this.draining = true;
  }

  /** Whether {@link drain} was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Runs every check at once; a check that throws is failing, its error not repeated. */
  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          return [c.name, (await c.check()) ?? 'ok'] as const;
        } catch {
          return [c.name, 'failing'] as const;
        }
      }),
    );
    const checks: Record<string, string> = Object.fromEntries(results);
    if (this.draining) checks['shutdown'] = 'draining';
    const ready = !this.draining && results.every(([, r]) => r === 'ok');
    return { status: ready ? 'ready' : 'not-ready', checks };
  }
}

/** A store check: one ping, answered within `timeoutMs` or failing. */
export function storeCheck(database: DocumentDatabase, timeoutMs: number): ReadinessCheck {
  return {
    name: 'store',
    async check() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      });
      try {
        return await Promise.race([database.ping().then(() => undefined, () => 'unreachable'), late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * `GET /health/live` (the process serves HTTP) and `GET /health/ready` (503 naming the failing
 * part). Not FHIR: plain JSON, no token, nothing about patients, peers' addresses or settings.
 */
export function healthRoutes(readiness: Readiness): ServerRoute[] {
  const noStore = 'no-store';
  return [
    {
      method: 'GET',
      path: '/health/live',
      options: { auth: false },
      handler: (_request, h) => h.response({ status: 'live' }).type('application/json').header('Cache-Control', noStore),
    },
    {
      method: 'GET',
      path: '/health/ready',
      options: { auth: false },
      async handler(_request, h) {
        const report = await readiness.report();
        return h
          .response(report)
          .code(report.status === 'ready' ? 200 : 503)
          .type('application/json')
          .header('Cache-Control', noStore);
      },
    },
  ];
}
