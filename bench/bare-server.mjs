// The ceiling for reads: bare hapi answering one stored document's bytes, nothing else.
import Hapi from '@hapi/hapi';
import { readFileSync } from 'node:fs';

const bytes = readFileSync(process.argv[2]);
const server = Hapi.server({ port: Number(process.argv[3]), host: '127.0.0.1' });
server.route({ method: 'GET', path: '/bare', handler: (_request, h) => h.response(bytes).type('application/fhir+json; charset=utf-8') });
await server.start();
process.stdout.write('ready\n');
