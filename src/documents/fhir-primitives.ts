/** Formats of the FHIR R4 primitives the document rules rely on. */

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

function validDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

/** Milliseconds since the epoch of a FHIR `instant`, or undefined when the text is not one. */
export function parseInstant(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = INSTANT.exec(text);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) return undefined;
  // Date.parse copes with any number of fraction digits; the regex guarantees the shape.
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether `text` is a FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date). */
export function isFhirDate(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const m = DATE.exec(text);
  if (!m) return false;
  if (m[2] === undefined) return true;
  const month = Number(m[2]);
  if (m[3] === undefined) return month >= 1 && month <= 12;
  return validDay(Number(m[1]), month, Number(m[3]));
}

/** Whether `value` is a non-empty string (FHIR primitives may not be empty). */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

