import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import pino from 'pino';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, minimal, send, type Json, type TestNode } from '../support/test-node.js';

const lines: Json[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Json);
    done();
  },
});

let node: TestNode;
const FAMILY = 'Zyxwvutsrq';
const NATIONAL_ID = 'NID-987654321';

beforeAll(async () => {
  node = await buildTestNode(memoryBackend, {}, pino({ level: 'info' }, sink));
});
afterAll(async () => {
  await node?.cleanup();
});

describe('logs', () => {
  it('carry one line per request with its id, route and status, and no patient data', async () => {
    const bundle = minimal();
    bundle['identifier'] = { system: 'urn:test:documents', value: 'DOC-LOG-1' };
    const patient = bundle['entry'].find((e: Json) => e.resource.resourceType === 'Patient').resource;
    patient.identifier = [{ system: 'urn:test:national', value: NATIONAL_ID }];
    patient.name = [{ family: FAMILY, given: ['Secret'] }];
    const created = await send(node.server, 'POST', '/fhir/Bundle', bundle, { 'x-request-id': 'log-test-0a1b2c3d-0000-4000-8000-000000000001' });
    const bundleId = bodyOf<Json>(created)['id'] as string;
    const found = await node.server.inject(`/fhir/Patient?identifier=urn:test:national|${NATIONAL_ID}&family=${FAMILY}`);
    const patientId = bodyOf<Json>(found)['entry'][0].resource.id as string;
    await node.server.inject(`/fhir/Patient/${patientId}/$summary`);
    await node.server.inject(`/fhir/Patient/$summary?identifier=urn:test:national|${NATIONAL_ID}`);
    await node.server.inject(`/fhir/Bundle/${bundleId}`);
    await send(node.server, 'POST', '/fhir/Bundle', { ...bundle, type: 'collection' });

    const requests = lines.filter((l) => l['msg'] === 'request');
    expect(requests).toHaveLength(6);
    expect(requests[0]).toMatchObject({ requestId: 'log-test-0a1b2c3d-0000-4000-8000-000000000001', method: 'POST', route: '/fhir/Bundle', statusCode: 201 });
    expect(requests.map((r) => r['route'])).toContain('/fhir/Patient/{id}/$summary');
    const text = JSON.stringify(lines);
    for (const secret of [FAMILY, NATIONAL_ID, 'DOC-LOG-1', patientId, bundleId, 'Secret']) expect(text).not.toContain(secret);
  });

  it("log a readiness probe's 503 (not ready yet) as a request, not as a failure", async () => {
    const readyLines: Json[] = [];
    const readySink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) readyLines.push(JSON.parse(line) as Json);
        done();
      },
    });
    const starting = await buildTestNode(memoryBackend, {}, pino({ level: 'info' }, readySink), { startupChecks: [{ name: 'seed', check: () => 'loading' }] });
    try {
      expect((await starting.server.inject('/health/ready')).statusCode).toBe(503);
      const probe = readyLines.filter((l) => l['route'] === '/health/ready');
      expect(probe).toEqual([expect.objectContaining({ level: 30, statusCode: 503, msg: 'request' })]);
      expect(readyLines.filter((l) => l['level'] >= 50)).toEqual([]);
    } finally {
      await starting.cleanup();
    }
  });
});
