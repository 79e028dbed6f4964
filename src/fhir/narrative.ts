import type { Narrative } from 'fhir/r4.js';

const XHTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Text made safe for XHTML content and attribute values. */
export function escapeXhtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => XHTML_ESCAPES[c]!);
}

/**
 * A generated narrative (dom-6): a heading and a list of lines, escaped. Only for resources the
 * node writes about itself or its answers; never with patient data.
 */
export function generatedNarrative(heading: string, lines: readonly string[]): Narrative {
  const list = lines.length > 0 ? `<ul>${lines.map((l) => `<li>${escapeXhtml(l)}</li>`).join('')}</ul>` : '';
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXhtml(heading)}</p>${list}</div>` };
}
