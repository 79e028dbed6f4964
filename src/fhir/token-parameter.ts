/**
 * A FHIR search parameter of type token (`identifier=system|value`), in the four forms FHIR
 * gives it: `system|value`, `|value` (no system), `value` (any system), `system|` (any value).
 */
export type TokenParameter =
  | { form: 'system|value'; system: string; value: string }
  | { form: '|value'; value: string }
  | { form: 'value'; value: string }
  | { form: 'system|'; system: string };

/** Reads a token parameter; the route's joi schema has already refused more than one `|`. */
export function parseTokenParameter(text: string): TokenParameter {
  const bar = text.indexOf('|');
  if (bar < 0) return { form: 'value', value: text };
  const system = text.slice(0, bar);
  const value = text.slice(bar + 1);
  if (system && value) return { form: 'system|value', system, value };
  if (value) return { form: '|value', value };
  return { form: 'system|', system };
}

/** `system|value` as a system and a value, when the parameter names both. */
export function systemAndValue(text: string): { system: string; value: string } | undefined {
  const token = parseTokenParameter(text);
  return token.form === 'system|value' ? { system: token.system, value: token.value } : undefined;
}
