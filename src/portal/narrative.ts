import sanitizeHtml from 'sanitize-html';

/**
 * The sanitiser of document narrative (FHIR XHTML written by another country's systems, so
 * untrusted). A strict allow-list: text structure only (paragraphs, lists, tables, emphasis);
 * no scripts, styles, event handlers, forms, frames, images, ids or classes (a document cannot
 * restyle the page or clobber its elements), and links keep their text but lose their target (a
 * clinician is never sent somewhere by a foreign document). Only `lang` and table geometry
 * survive as attributes. The page's Content-Security-Policy (no inline script or style) is the
 * second wall should this one fail.
 */
const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'sub', 'sup', 'small', 'code', 'pre', 'blockquote', 'hr',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd',
    'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'colgroup', 'col',
    'h3', 'h4', 'h5', 'h6',
  ],
  allowedAttributes: { '*': ['lang'], th: ['colspan', 'rowspan', 'scope'], td: ['colspan', 'rowspan'], col: ['span'], colgroup: ['span'] },
  allowedSchemes: [],
  allowedSchemesAppliedToAttributes: [],
  allowProtocolRelative: false,
  // Headings of a document sit below the page's own (h1 page, h2 section): h1/h2 become h3.
  transformTags: { h1: 'h3', h2: 'h3', a: 'span' },
  // Dropped with their content: what could only ever be code or styling.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'title', 'iframe', 'object', 'embed', 'svg', 'math'],
  disallowedTagsMode: 'discard',
  parseStyleAttributes: false,
};

/** Safe HTML for a narrative `div`; the outer `div` is kept, with its `lang`. */
export function sanitiseNarrative(xhtml: string): string {
  return sanitizeHtml(xhtml, OPTIONS);
}
