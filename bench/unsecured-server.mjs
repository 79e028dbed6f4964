// The baseline of the security benchmark: the same $summary read, assembled here from the node's
// own parts (store, repositories, plugins for errors, request ids, logging and content
// negotiation, the summary bytes and the same response), without token
// verification, consent decision, request budgets or audit. No production switch can do this:
// the node itself always runs them. Embedded store, like the secured node it is compared with.
import Hapi from '@hapi/hapi';
import { readFileSync } from 'node:fs';
import { issueDisclosure } from '../dist/src/access/disclosure.js';
import { localSystemAccess } from '../dist/src/access/system-access.js';
import { loadConfig } from '../dist/src/config.js';
import { MemoryDatabase } from '../dist/src/repositories/memory-database.js';
import { storeOn } from '../dist/src/repositories/store.js';
import { summaryResponse } from '../dist/src/routes/responses.js';
import { createServices } from '../dist/src/server.js';
import { createValidator } from '../dist/src/validation/index.js';
import { createLogger } from '../dist/src/logger.js';
import { contentNegotiationPlugin } from '../dist/src/plugins/content-negotiation.js';
import { loggingPlugin } from '../dist/src/plugins/logging.js';
import { operationOutcomePlugin } from '../dist/src/plugins/operation-outcome.js';
import { requestIdPlugin } from '../dist/src/plugins/request-id.js';

const [file, port] = process.argv.slice(2);
const config = loadConfig({ LOG_LEVEL: 'silent' });
const store = await storeOn(new MemoryDatabase(), config);
const services = createServices({ config, store, validator: createValidator() });
const pushed = await services.summaries.push(JSON.parse(readFileSync(file, 'utf8')), localSystemAccess('AT', 'bench'));
const patientId = pushed.record.patientId;
const server = Hapi.server({ port: Number(port), host: '127.0.0.1', router: { stripTrailingSlash: true }, debug: false });
// The node's other plugins, as the node registers them: only the security path is left out.
const logger = createLogger({ ...config, logLevel: 'warn' });
await server.register([
  { plugin: operationOutcomePlugin, options: { logger, maxPayloadBytes: config.maxPayloadBytes } },
  { plugin: requestIdPlugin },
  { plugin: loggingPlugin, options: { logger } },
  { plugin: contentNegotiationPlugin },
]);
server.route({
  method: 'GET',
  path: '/fhir/Patient/{id}/$summary',
  async handler(request, h) {
    const current = await store.summaries.currentForPatient(request.params.id);
    // A disclosure made here without any decision: exactly what the node never does.
    const disclosure = issueDisclosure({ outcome: 'permit', patientId: request.params.id, withheldSections: [], breakGlass: false, basis: 'benchmark baseline' });
    const version = await store.summaries.version({ summaryId: current.summaryId, patientId: request.params.id }, current.versionId, disclosure);
    return summaryResponse(h, version).type('application/fhir+json; charset=utf-8');
  },
});
await server.start();
process.stdout.write(`ready ${patientId}\n`);
