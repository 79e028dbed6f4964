import { receivesTranslations } from '../access/access-policy.js';
import Accept from '@hapi/accept';
import Boom from '@hapi/boom';
import type { Request, ResponseObject } from '@hapi/hapi';
import { headerOf } from '../fhir/headers.js';
import { fhirError } from '../fhir/operation-outcome.js';
import type { Access } from '../access/access-context.js';
import { isLanguageTag } from '../terminology/language-tags.js';
import type { ReaderCopy, SummaryTranslation } from '../terminology/summary-translation.js';

/** Longest Accept-Language considered (browsers send well under 200 bytes). */
const MAX_ACCEPT_LANGUAGE = 1024;

/**
 * The language ranges a summary reader asked for (Accept-Language, most wanted first, q=0
 * dropped), read before any work so that a malformed header is a 400 at once; an empty list when
 * the header is absent. Undefined when the summary is served exactly as stored: this node has no
 * catalogue, or a peer node is asking (translation happens at the reader's node, after the home
 * node's signature is verified).
 */
export function readerLanguages(translation: SummaryTranslation | undefined, request: Request, access: Access): string[] | undefined {
  if (!translation || !receivesTranslations(access.requester)) return undefined;
  const header = headerOf(request, 'accept-language');
  if (header === undefined || header.trim() === '') return [];
  try {
    if (header.length > MAX_ACCEPT_LANGUAGE) throw Boom.badRequest();
    return Accept.languages(header);
  } catch {
    throw fhirError(400, { code: 'invalid', message: 'the Accept-Language header is malformed (expected language ranges with optional q-values, such as pt-PT, pt;q=0.9)' });
  }
}

/**
 * Labels a summary response with the language the reader got: `Content-Language` (when known),
 * `Vary: Accept-Language`, and for a translated copy `X-Pontis-Translation` with how many codes
 * and section titles the catalogue translated (`codes=41/44; titles=16/16`).
 */
export function inReaderLanguage(response: ResponseObject, copy: ReaderCopy): ResponseObject {
  response.vary('accept-language');
  // A document's language is a FHIR code: only a well-formed tag becomes a header.
  if (copy.language !== undefined && isLanguageTag(copy.language)) response.header('Content-Language', copy.language);
  const t = copy.translation;
  if (t) response.header('X-Pontis-Translation', `codes=${t.codes.translated}/${t.codes.total}; titles=${t.titles.translated}/${t.titles.total}`);
  return response;
}
