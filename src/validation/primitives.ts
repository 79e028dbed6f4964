/**
 * Lexical rules of the FHIR R4 primitive types (R4 "Datatypes", regexes as published), checked
 * on the JSON value together with its JSON type.
 */
export interface PrimitiveRule {
  json: 'string' | 'number' | 'boolean';
  /** A uri-like type (uri, url, canonical, oid, uuid), whose `urn:uuid:` and `urn:oid:` values are checked too. */
  urn?: boolean;
  pattern?: RegExp;
  /** The published regex, answered by a scan of the characters (the same answer, tested on every code unit). */
  lexical?: (value: string) => boolean;
  check?: (value: string | number) => boolean;
}

/**
 * ECMAScript's `\s` (WhiteSpace and LineTerminator: tab, LF, VT, FF, CR, space, the Unicode `Zs`
 * spaces, U+2028, U+2029, U+FEFF), for the regexes without the `u` flag, which read code units.
 */
export function isRegExpSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

// The string, code and uri rules are met by nearly every primitive of a document: a scan of the
// characters costs a fraction of a regex call on these short values.

/** `^[ \r\n\t\S]+$` (string, markdown): no whitespace but space, CR, LF and tab. */
function isStringText(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 11 || c === 12 || (c >= 160 && isRegExpSpace(c))) return false;
  }
  return true;
}

/** `^\S*$` (uri, url, canonical): no whitespace at all. */
function hasNoSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isRegExpSpace(s.charCodeAt(i))) return false;
  return true;
}

/** `^[^\s]+( [^\s]+)*$` (code): words of non-whitespace, each separated by one space. */
function isCodeText(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let previousSpace = true; // no space first
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      if (previousSpace) return false;
      previousSpace = true;
    } else if (isRegExpSpace(c)) {
      return false;
    } else {
      previousSpace = false;
    }
  }
  return !previousSpace;
}

/** `^[A-Za-z0-9\-.]{1,64}$` (id). */
function isIdText(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46)) return false;
  }
  return true;
}

const DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;
const DATE_TIME =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;

const digit = (s: string, i: number): number => s.charCodeAt(i) - 48;

/** A real calendar day where the text carries one (the regexes, already passed, accept 31 February). */
function realDay(text: string | number): boolean {
  const s = String(text);
  if (s.length < 10) return true;
  const day = digit(s, 8) * 10 + digit(s, 9);
  if (day <= 28) return true;
  const month = digit(s, 5) * 10 + digit(s, 6);
  if (month !== 2) return day <= (month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (leap ? 29 : 28);
}

const RULES: Record<string, PrimitiveRule> = {
  boolean: { json: 'boolean' },
  integer: { json: 'number', check: (v) => Number.isInteger(v) && Number(v) >= -2147483648 && Number(v) <= 2147483647 },
  unsignedInt: { json: 'number', check: (v) => Number.isInteger(v) && Number(v) >= 0 && Number(v) <= 2147483647 },
  positiveInt: { json: 'number', check: (v) => Number.isInteger(v) && Number(v) >= 1 && Number(v) <= 2147483647 },
  decimal: { json: 'number', check: (v) => Number.isFinite(v) },
  string: { json: 'string', pattern: /^[ \r\n\t\S]+$/, lexical: isStringText },
  markdown: { json: 'string', pattern: /^[ \r\n\t\S]+$/, lexical: isStringText },
  code: { json: 'string', pattern: /^[^\s]+( [^\s]+)*$/, lexical: isCodeText },
  id: { json: 'string', pattern: /^[A-Za-z0-9\-.]{1,64}$/, lexical: isIdText },
  uri: { json: 'string', pattern: /^\S*$/, lexical: hasNoSpace, urn: true },
  url: { json: 'string', pattern: /^\S*$/, lexical: hasNoSpace, urn: true },
  canonical: { json: 'string', pattern: /^\S*$/, lexical: hasNoSpace, urn: true },
  oid: { json: 'string', pattern: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/, urn: true },
  uuid: { json: 'string', pattern: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, urn: true },
  base64Binary: { json: 'string', pattern: /^(\s*([0-9a-zA-Z+/=]){4}\s*)+$/ },
  date: { json: 'string', pattern: DATE, check: realDay },
  dateTime: { json: 'string', pattern: DATE_TIME, check: realDay },
  instant: { json: 'string', pattern: INSTANT, check: realDay },
  time: { json: 'string', pattern: /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/ },
  xhtml: { json: 'string', check: (v) => /^\s*<div[\s>]/.test(String(v)) && /<\/div>\s*$/.test(String(v)) },
};

const RULE_BY_TYPE = new Map<string, PrimitiveRule>(Object.entries(RULES));

/** Whether `type` is a FHIR primitive type. */
export function isPrimitiveType(type: string): boolean {
  return RULE_BY_TYPE.has(type);
}

/** The rule of a FHIR primitive type; undefined for any other type. */
export function primitiveRule(type: string): PrimitiveRule | undefined {
  return RULE_BY_TYPE.get(type);
}

/** The lexical rule of a type that has one, with its published regex: for tests that the scans agree with the regexes. */
export function lexicalRule(type: string): { pattern: RegExp; lexical: (value: string) => boolean } | undefined {
  const rule = RULES[type];
  return rule?.pattern && rule.lexical ? { pattern: rule.pattern, lexical: rule.lexical } : undefined;
}

/** Why `value` is not a valid `type`, or undefined when it is. */
export function primitiveProblem(type: string, value: unknown): string | undefined {
  const rule = RULE_BY_TYPE.get(type);
  return rule === undefined ? undefined : ruleProblem(rule, type, value);
}

/** Why `value` breaks the rule of its primitive `type`, or undefined when it does not. */
export function ruleProblem(rule: PrimitiveRule, type: string, value: unknown): string | undefined {
  if (typeof value !== rule.json) return `must be a JSON ${rule.json} (FHIR ${type})`;
  if (rule.json === 'string' && (value as string).length === 0) return `must not be empty (FHIR ${type})`;
  if (rule.lexical ? !rule.lexical(value as string) : rule.pattern && !rule.pattern.test(String(value))) return `is not a valid FHIR ${type}`;
  if (rule.check && !rule.check(value as string | number)) return `is not a valid FHIR ${type}`;
  return undefined;
}
