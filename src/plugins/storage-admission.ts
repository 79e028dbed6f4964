import type { Plugin, Request } from '@hapi/hapi';
import type { Logger } from 'pino';
import { fhirError, type Problem } from '../fhir/operation-outcome.js';
import { StoreFullError, type DocumentDatabase } from '../repositories/document-collection.js';

/** The routes that store patient data: documents and Consents, created or updated (not `$validate`, which stores nothing). */
const PATIENT_DATA_WRITES = new Set(['post /fhir/Bundle', 'put /fhir/Bundle/{id}', 'post /fhir/Consent', 'put /fhir/Consent/{id}']);

/**
 * The most one write stores per byte received, and besides: the document's text (two bytes a
 * character in the worst case), the patient's served JSON, records and their index entries.
 */
const BYTES_PER_BYTE_RECEIVED = 2;
const BYTES_BESIDES = 64 * 1024;

/**
 * What a full embedded store answers: 507 Insufficient Storage (RFC 4918), not 503 with
 * Retry-After. The store never frees room by itself (nothing is deleted and the embedded store
 * holds nothing beyond this process), so a client retrying later gets the same answer; what
 * helps is an operator's, not time.
 */
export const STORE_FULL: Problem = {
  severity: 'error',
  code: 'no-store',
  message: "this node's store is full: nothing of this write was stored; reads still work. The operator must move the node to MongoDB or raise its bound (PONTIS_EMBEDDED_MAX_BYTES).",
};

type Admitted = { release?: () => void };

function sizeOf(request: Request, maxPayloadBytes: number): number {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > 0) return declared;
  const payload = request.payload as unknown;
  if (typeof payload === 'string') return payload.length;
  if (Buffer.isBuffer(payload)) return payload.length;
  return maxPayloadBytes;
}

/**
 * The bound of a store held in memory, kept before any work: a write of patient data is
 * admitted only when room is set aside for all it may store, released when its response has
 * left. A write refused here stored nothing, and reads (whose audit records have room of their
 * own above the patient data's bound) go on. After authentication and the request
 * budget, so that only an authorised requester learns the store is full. Not registered for a
 * database server.
 */
export const storageAdmissionPlugin: Plugin<{ database: DocumentDatabase; maxPayloadBytes: number; logger: Logger }> = {
  name: 'pontis-storage-admission',
  register(server, { database, maxPayloadBytes, logger }) {
    const reserve = database.reserve?.bind(database);
    if (!reserve) return;
    let warned = false;
    server.ext('onPostAuth', (request, h) => {
      if (!PATIENT_DATA_WRITES.has(`${request.method} ${request.route.path}`)) return h.continue;
      try {
        const release = reserve(sizeOf(request, maxPayloadBytes) * BYTES_PER_BYTE_RECEIVED + BYTES_BESIDES);
        (request.plugins as Record<string, Admitted>)['pontis-storage-admission'] = { release };
      } catch (error) {
        if (!(error instanceof StoreFullError)) throw error;
        if (!warned) {
          warned = true;
          // Which bound was met (the store's bytes, or its heap part) says what to raise: the message names it, and holds no data.
          logger.warn(
            { capacity: database.capacity?.(), bound: error.message },
            'EMBEDDED STORE FULL: writes of patient data are refused with 507 from now on; reads go on. Move to MongoDB, or raise PONTIS_EMBEDDED_MAX_BYTES (its bytes) or the heap (--max-old-space-size, its heap bound)',
          );
        }
        throw fhirError(507, STORE_FULL);
      }
      return h.continue;
    });
    server.events.on('response', (request) => {
      (request.plugins as Record<string, Admitted>)['pontis-storage-admission']?.release?.();
    });
  },
};
