import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { freePort, startNode } from '../support/node-process.js';
import { hospitalToken } from '../support/test-node.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM', () => {
  it('reports not ready at once, keeps serving for the shutdown delay, drains a request under way, then exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/fhir`;
    const node = await startNode({ PORT: String(port), PONTIS_COUNTRY: 'AT', PONTIS_BASE_URL: base, PONTIS_SHUTDOWN_DELAY_MS: '3000', PONTIS_DRAIN_TIMEOUT_MS: '10000', LOG_LEVEL: 'info' });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      const token = await hospitalToken(base);
      // A request under way: its body arrives in two halves, the second after the listener closed.
      const body = Buffer.from(JSON.stringify({ resourceType: 'Patient', id: 'drain', gender: 'female' }));
      const slow = httpRequest(`${base}/Patient/$validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', 'content-length': String(body.length) },
      });
      const answered = once(slow, 'response') as Promise<[IncomingMessage]>;
      slow.write(body.subarray(0, 10));
      await sleep(200);

      const exited = once(node.child, 'exit') as Promise<[number | null]>;
      const signalled = Date.now();
      node.child.kill('SIGTERM');
      let ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      while (ready.status === 200 && Date.now() - signalled < 2000) {
        await sleep(50);
        ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      }
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'not-ready', checks: { shutdown: 'draining' } });
      // Still serving while load balancers move away.
      const during = await fetch(`${base}/Patient?family=nobody`, { headers: { authorization: `Bearer ${await hospitalToken(base)}` } });
      expect(during.status).toBe(200);

      // Once the delay is over the listener closes: no new connection...
      let refused = false;
      while (!refused && Date.now() - signalled < 9000) {
        await sleep(100);
        refused = await fetch(`http://127.0.0.1:${port}/health/live`).then(
          () => false,
          () => true,
        );
      }
      expect(refused).toBe(true);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(3000);
      // ...but the request under way completes.
      slow.end(body.subarray(10));
      const [response] = await answered;
      expect(response.statusCode).toBe(200);
      let text = '';
      for await (const chunk of response) text += String(chunk);
      expect(JSON.parse(text)).toMatchObject({ resourceType: 'OperationOutcome' });
      const [code] = await exited;
      expect(code).toBe(0);
      expect(node.output()).toMatch(/stopping: reporting not ready/);
      expect(node.output()).toMatch(/stopped: requests drained/);
    } finally {
      await node.stop();
    }
  }, 60_000);
});
