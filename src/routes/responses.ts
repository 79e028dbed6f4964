import type { ResponseObject, ResponseToolkit } from '@hapi/hapi';
import type { StoredSummary } from '../services/summary-service.js';

/** Answers with a stored document version: its bytes, ETag, Last-Modified. */
export function summaryResponse(h: ResponseToolkit, stored: Pick<StoredSummary, 'versionId' | 'lastUpdated' | 'bytes'>, status = 200): ResponseObject {
  return h
    .response(stored.bytes)
    .code(status)
    .etag(String(stored.versionId), { weak: true, vary: false })
    .header('Last-Modified', stored.lastUpdated.toUTCString());
}
