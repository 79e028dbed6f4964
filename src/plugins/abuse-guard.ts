import type { Plugin } from '@hapi/hapi';
import type { RequestBudget } from '../access/request-budget.js';

/**
 * Abuse detection per requester: every authenticated request counts against its requester's
 * budget (the patient's budget is counted where the patient is known, in the patient-data gate).
 */
export const abuseGuardPlugin: Plugin<{ budget: RequestBudget }> = {
  name: 'pontis-abuse-guard',
  register(server, { budget }) {
    server.ext('onPostAuth', async (request, h) => {
      const requester = request.auth.credentials?.requester;
      if (requester) await budget.spend('requester', `${requester.issuer}\n${requester.subject}`, Date.now());
      return h.continue;
    });
  },
};
