/** Media types under which the node reads and writes FHIR JSON. */
export const FHIR_JSON = 'application/fhir+json';
export const ACCEPTED_CONTENT_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

/** Whether a `_format` parameter asks for JSON. */
export function isJsonFormat(format: string): boolean {
  return JSON_FORMATS.has(format.trim().toLowerCase());
}

/**
 * The media type to answer with for an `Accept` header, or undefined when the client accepts
 * nothing this node produces (406). Answers `application/json` only to clients that ask for it
 * and not for FHIR JSON.
 */
export function negotiateResponseType(accept: string | undefined): string | undefined {
  if (accept === undefined || accept.trim() === '') return FHIR_JSON;
  let best: { type: string; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [rawType = '', ...params] = part.split(';');
    const type = rawType.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    if (!(q > 0)) continue;
    const answer =
      type === 'application/fhir+json' || type === 'application/json+fhir' || type === '*/*' || type === 'application/*'
        ? FHIR_JSON
        : type === 'application/json'
          ? 'application/json'
          : undefined;
    if (answer && (!best || q > best.q || (q === best.q && answer === FHIR_JSON))) best = { type: answer, q };
  }
  return best?.type;
}
