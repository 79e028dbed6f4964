import type { Plugin } from '@hapi/hapi';
import type { PatientDataGate } from '../access/patient-data-gate.js';
import { accessContextOf } from './authentication.js';

/**
 * Abuse detection per requester: every authenticated request counts against its requester's
 * budget (each requester's budget per patient is counted in the patient-data gate too). The gate
 * notes a refusal in the request's audit facts, so that its audit record says it was throttled.
 */
export const abuseGuardPlugin: Plugin<{ gate: PatientDataGate }> = {
  name: 'pontis-abuse-guard',
  register(server, { gate }) {
    server.ext('onPostAuth', async (request, h) => {
      if (!request.auth.credentials?.requester) return h.continue;
      await gate.admitRequester(accessContextOf(request));
      return h.continue;
    });
  },
};
