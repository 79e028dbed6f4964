import type { Plugin } from '@hapi/hapi';
import { accessOf } from '../access/access-context.js';
import type { RequestBudget } from '../access/request-budget.js';
import { requestIdOf } from './request-id.js';

/**
 * Abuse detection per requester: every authenticated request counts against its requester's
 * budget (each requester's budget per patient is counted in the patient-data gate). A refusal
 * is noted on the access context, so that its audit record says it was throttled.
 */
export const abuseGuardPlugin: Plugin<{ budget: RequestBudget }> = {
  name: 'pontis-abuse-guard',
  register(server, { budget }) {
    server.ext('onPostAuth', async (request, h) => {
      const requester = request.auth.credentials?.requester;
      if (!requester) return h.continue;
      const refusal = await budget.charge('requester', `${requester.issuer}\n${requester.subject}`, Date.now());
      if (refusal) {
        accessOf(request, requestIdOf(request)).throttled = true;
        throw refusal;
      }
      return h.continue;
    });
  },
};
