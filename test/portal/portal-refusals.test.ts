import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortalClient, startPortalUnderTest, textOf, type PortalUnderTest } from './portal-harness.js';

/**
 * What a clinician at the AT portal is told when France's node (a fake on loopback) matches
 * several patients, answers something that is not FHIR, does not answer in time, or has failed
 * so often that its circuit is open. Through server.inject, on a node with the exchange set up.
 */

let fr: Server;
let mode: 'two-matches' | 'garbage' | 'hang' = 'two-matches';
let portal: PortalUnderTest;

beforeAll(async () => {
  fr = createServer((req, res) => {
    if (mode === 'hang') return; // never answers
    if (mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      return;
    }
    const patient = (id: string, given: string) => ({ fullUrl: `http://fr.example/fhir/Patient/${id}`, resource: { resourceType: 'Patient', id, name: [{ family: 'Martin', given: [given] }] } });
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 2, entry: [patient('a', 'Luc'), patient('b', 'Léa')] }));
  });
  await new Promise<void>((resolve) => fr.listen(0, '127.0.0.1', resolve));
  const frUrl = `http://127.0.0.1:${(fr.address() as AddressInfo).port}/fhir`;
  portal = await startPortalUnderTest({ country: 'AT', peerUrls: `FR=${frUrl}`, env: { PONTIS_PEER_TIMEOUT_MS: '400', PONTIS_PEER_CONNECT_TIMEOUT_MS: '200' } });
}, 60_000);

afterAll(async () => {
  await portal?.stop();
  fr.closeAllConnections();
  await new Promise((resolve) => fr.close(resolve));
});

async function clinician(): Promise<PortalClient> {
  const client = new PortalClient(portal.portal.server);
  await client.signIn(portal.portal.url, 'doctor');
  await client.get('/clinician/find');
  return client;
}

const FRENCH_PATIENT = { purpose: 'treat', country: 'FR', identifier: '1850275123456' };

describe('a home node that', () => {
  it('matches several patients: the clinician is asked for confirming details, the form kept', async () => {
    mode = 'two-matches';
    const client = await clinician();
    const answer = await client.post('/clinician/find', FRENCH_PATIENT);
    expect(answer.statusCode).toBe(409);
    expect(answer.payload).toContain('data-testid="notice"');
    expect(textOf(answer)).toContain('The home country found more than one patient with this identifier. Add the confirming details and search again.');
    // The details are open and the identifier kept.
    expect(answer.payload).toMatch(/<details class="govuk-details" open>/);
    expect(answer.payload).toContain('value="1850275123456"');
  });

  it('answers something that is not FHIR: nothing is shown, and the words say so', async () => {
    mode = 'garbage';
    const client = await clinician();
    const answer = await client.post('/clinician/find', FRENCH_PATIENT);
    expect(answer.statusCode).toBe(502);
    expect(textOf(answer)).not.toContain('maintenance');
    expect(textOf(answer)).toMatch(/The (answer from France could not be verified|service of France could not be reached)/);
    expect(textOf(answer)).toContain('Try again in a few minutes');
  });

  it('does not answer in time: unreachable, try again later; once its circuit is open, try again in N seconds', async () => {
    mode = 'hang';
    const client = await clinician();
    const slow = await client.post('/clinician/find', FRENCH_PATIENT);
    expect(slow.statusCode).toBe(504);
    expect(textOf(slow)).toContain('The service of France could not be reached or did not answer in time.');
    let answer = slow;
    for (let i = 0; i < 8 && answer.statusCode !== 503; i++) answer = await client.post('/clinician/find', FRENCH_PATIENT);
    expect(answer.statusCode).toBe(503);
    expect(textOf(answer)).toContain('The service is busy or unavailable for the moment.');
    expect(textOf(answer)).toMatch(/Try again in \d+ seconds\./);
  }, 30_000);
});
