// The floor for a push's latency under load (issue 16: "p95 ≤ 1.5 × p50"): bare hapi taking the
// same `POST /fhir/Bundle` and answering 201 with the pushed bytes (what Pontis's 201 echoes),
// compressed as Pontis compresses that echo (the route's ECHO_COMPRESSION, through hapi's stream),
// after spending a set CPU time on the event loop (a busy loop standing for parsing, validation,
// hashing, storing and auditing) and, for documents the node validates on its worker pool, a set
// CPU time on one of as many worker threads (a busy loop there, awaited). What the tail of this server looks like under the bench's
// closed-loop client is what a single event loop gives at that CPU per request; Pontis's tail
// beyond it is Pontis's own.
//
// `node bench/bare-push-server.mjs <port> [threads]`; `PUT /busy/<loop ms>/<worker ms>` sets the
// busy times (the bench matches them to the node's CPU per push of each workload).
import Hapi from '@hapi/hapi';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ECHO_COMPRESSION } from '../dist/src/routes/responses.js';

const port = Number(process.argv[2]);
let loopMs = 0;
let workerMs = 0;
let version = 0;

/** A busy loop of `ms` on the least loaded of the workers (as many as the node's validation threads). */
const workers = Array.from({ length: Number(process.argv[3] ?? availableParallelism()) }, () => {
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (ms) => { const until = performance.now() + ms; while (performance.now() < until); parentPort.postMessage(ms); });`, { eval: true });
  const entry = { worker, waiting: [] };
  worker.on('message', () => entry.waiting.shift()());
  return entry;
});
function onWorker(ms) {
  const entry = workers.reduce((a, b) => (b.waiting.length < a.waiting.length ? b : a));
  return new Promise((resolve) => {
    entry.waiting.push(resolve);
    entry.worker.postMessage(ms);
  });
}

const server = Hapi.server({ port, host: '127.0.0.1' });
server.route({
  method: 'POST',
  path: '/fhir/Bundle',
  options: { payload: { parse: false, output: 'data', maxBytes: 16 * 2 ** 20 }, compression: ECHO_COMPRESSION },
  async handler(request, h) {
    if (workerMs > 0) await onWorker(workerMs);
    const until = performance.now() + loopMs;
    while (performance.now() < until);
    version += 1;
    // The headers Pontis's 201 carries, so that the answer's size on the wire is alike.
    return h
      .response(request.payload)
      .code(201)
      .type('application/fhir+json; charset=utf-8')
      .etag('1', { weak: true, vary: false })
      .header('Last-Modified', new Date().toUTCString())
      .header('Location', `http://127.0.0.1:${port}/fhir/Bundle/${version}/_history/1`);
  },
});
server.route({
  method: 'PUT',
  path: '/busy/{loop}/{worker}',
  handler(request) {
    loopMs = Math.max(0, Number(request.params.loop));
    workerMs = Math.max(0, Number(request.params.worker));
    return { loopMs, workerMs };
  },
});
await server.start();
process.stdout.write(`listening on ${port}\n`);
