/**
 * R4 rules for `Narrative.div` (txt-1, txt-2: `htmlChecks()`, which FHIRPath engines outside the
 * HL7 Java one do not implement), checked natively: a well-formed XHTML fragment whose root is a
 * `div` in the XHTML namespace, made only of the basic formatting elements and attributes R4
 * allows (no scripts, forms, frames, event attributes, `idref`), with some text or an image.
 * Also collects the `id` and `a@name` anchors, for narrative links, and reports ids given twice
 * (a warning: the HL7 validator accepts them).
 */

/** What a narrative check found. */
export interface NarrativeFindings {
  /** Problems, each with the R4 constraint key when one applies; `warning` for what R4 does not forbid. */
  problems: { key?: 'txt-1' | 'txt-2'; message: string; warning?: boolean }[];
  /** Anchors a `#ref` can point to: `id` attributes and `a@name`. */
  anchors: string[];
  /** Ids of contained resources that images show (`img@src="#id"`). */
  images: string[];
}

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

// R4 Narrative: HTML 4.0 chapters 7-11 (but not 9.4) and 15, <a>, images and style attributes;
// the same lists the HL7 validator applies.
const ELEMENTS = new Set(
  'p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite blockquote hr address bdo kbd sub sup ul ol li dl dt dd pre table caption colgroup col thead tr tfoot tbody th td code samp img map area'.split(' '),
);
const ATTRIBUTES = new Set(
  'title style class id lang xml:lang dir accesskey tabindex span width align valign char charoff abbr axis headers scope rowspan colspan'.split(' '),
);
const ELEMENT_ATTRIBUTES = new Set(
  'a.href a.name img.src img.border div.xmlns blockquote.cite q.cite a.charset a.type a.hreflang a.rel a.rev a.shape a.coords img.alt img.longdesc img.height img.width img.usemap img.ismap map.name area.shape area.coords area.href area.nohref area.alt table.summary table.width table.border table.frame table.rules table.cellspacing table.cellpadding pre.space td.nowrap'.split(
    ' ',
  ),
);

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const isNameChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 58 || c === 46 || c === 45 || c === 95;

/** Whether `&` at `at` starts a well-formed reference (`&name;`, `&#n;`, `&#xh;`). */
function entityAt(s: string, at: number, end: number): boolean {
  let i = at + 1;
  if (s.charCodeAt(i) === 35 /* # */) {
    i++;
    const hex = s.charCodeAt(i) === 120; /* x */
    if (hex) i++;
    const from = i;
    while (i < end && (hex ? /[0-9A-Fa-f]/.test(s[i]!) : s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57)) i++;
    return i > from && s.charCodeAt(i) === 59;
  }
  const from = i;
  while (i < end && isNameChar(s.charCodeAt(i))) i++;
  return i > from && s.charCodeAt(i) === 59;
}

/**
 * The `&`s of one narrative, for a scan that asks about ranges in increasing order (text, then
 * attribute values, then the next text): each `&` is searched for once. Searching from each range
 * to the next `&` instead read to the end of the text when there was none, once per text and
 * attribute value: quadratic in the narrative's size.
 */
class Ampersands {
  /** The first `&` at or after the ranges asked about so far (-1: none left). */
  private next: number;

  constructor(private readonly s: string) {
    this.next = s.indexOf('&');
  }

  /** Whether every `&` in s[from, to) is a well-formed reference; `from` is at or after the previous range's end. */
  wellFormedIn(from: number, to: number): boolean {
    const s = this.s;
    if (this.next >= 0 && this.next < from) this.next = s.indexOf('&', from);
    for (; this.next >= 0 && this.next < to; this.next = s.indexOf('&', this.next + 1)) if (!entityAt(s, this.next, to)) return false;
    return true;
  }
}

/**
 * The memo, by a fingerprint of the text (its length and characters sampled along it) rather than
 * by the text: a narrative just parsed from a request has no hash yet, and hashing it reads every
 * character, slower than the comparison with the text remembered under the same fingerprint.
 */
const remembered = new Map<number, { text: string; findings: NarrativeFindings }[]>();
let rememberedChars = 0;
/** What the memo may hold, in characters of narrative (the texts are its keys): about 32 MB. */
const MEMO_CHARS = 16 * 1024 * 1024;
/**
 * Texts kept under one fingerprint. Narratives made from one template (same length, a date or a
 * name changed where no character is sampled) share a fingerprint: unbounded, each new one was
 * compared with every earlier one, in full, a few milliseconds per document once hundreds were kept.
 */
const BUCKET_TEXTS = 4;

/** Length and about 32 characters spread over the text, as a small integer. */
function fingerprint(text: string): number {
  const n = text.length;
  const step = (n >>> 5) + 1;
  let h = n;
  for (let i = 0; i < n; i += step) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h & 0x3fffffff;
}

/**
 * {@link checkNarrative}, remembered per narrative text (a pure function of it; the same
 * narratives come back as a document is pushed, read, redacted and sent). Bounded by the
 * characters it holds (emptied when full) and by the texts kept per fingerprint.
 */
export function narrativeFindings(xhtml: string): NarrativeFindings {
  const key = fingerprint(xhtml);
  let bucket = remembered.get(key);
  if (bucket !== undefined) {
    for (const entry of bucket) if (entry.text === xhtml) return entry.findings;
  }
  const findings = checkNarrative(xhtml);
  if (rememberedChars + xhtml.length > MEMO_CHARS) {
    remembered.clear();
    rememberedChars = 0;
    bucket = undefined;
  }
  if (xhtml.length <= MEMO_CHARS / 16) {
    if (bucket === undefined) {
      bucket = [];
      remembered.set(key, bucket);
    }
    // The oldest text under this fingerprint makes room (the bucket is in insertion order).
    if (bucket.length >= BUCKET_TEXTS) rememberedChars -= bucket.shift()!.text.length;
    bucket.push({ text: xhtml, findings });
    rememberedChars += xhtml.length;
  }
  return findings;
}

/** How many narrative texts the memo keeps under the fingerprint of `xhtml` (for tests: it is bounded). */
export function rememberedUnderFingerprint(xhtml: string): number {
  return remembered.get(fingerprint(xhtml))?.length ?? 0;
}

/**
 * Checks one `Narrative.div` value (already known to be a string). A hand-written scanner: the
 * narratives are half of a typical IPS document's bytes, and regular expressions with captures
 * cost several times more.
 */
export function checkNarrative(xhtml: string): NarrativeFindings {
  const problems: NarrativeFindings['problems'] = [];
  const anchors: string[] = [];
  const images: string[] = [];
  const stack: string[] = [];
  let seen: Set<string> | undefined;
  let disallowed: Set<string> | undefined;
  let rootClosed = false;
  let hasContent = false;
  let wellFormed = true;
  const ampersands = new Ampersands(xhtml);
  const n = xhtml.length;
  let i = 0;
  scan: while (i < n) {
    const lt = xhtml.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      let blank = true;
      for (let j = i; j < textEnd; j++) {
        if (!isSpace(xhtml.charCodeAt(j))) {
          blank = false;
          break;
        }
      }
      if (!blank) {
        if (stack.length === 0 || !ampersands.wellFormedIn(i, textEnd)) {
          wellFormed = false;
          break;
        }
        hasContent = true;
      }
    }
    if (lt < 0) break;
    const next = xhtml.charCodeAt(lt + 1);
    if (next === 33 /* ! */) {
      if (xhtml.startsWith('<!--', lt)) {
        const close = xhtml.indexOf('-->', lt + 4);
        if (close < 0) {
          wellFormed = false;
          break;
        }
        i = close + 3;
        continue;
      }
      if (xhtml.startsWith('<![CDATA[', lt)) {
        const close = xhtml.indexOf(']]>', lt + 9);
        if (close < 0 || stack.length === 0) {
          wellFormed = false;
          break;
        }
        if (xhtml.slice(lt + 9, close).trim() !== '') hasContent = true;
        i = close + 3;
        continue;
      }
    }
    if (next === 33 || next === 63 /* ? */) {
      // <!DOCTYPE ...>, <?...?>: not part of a narrative
      const close = xhtml.indexOf('>', lt);
      if (close < 0) {
        wellFormed = false;
        break;
      }
      (disallowed ??= new Set()).add(xhtml.slice(lt, Math.min(close + 1, lt + 10)));
      i = close + 1;
      continue;
    }
    if (next === 47 /* / */) {
      let j = lt + 2;
      while (j < n && isNameChar(xhtml.charCodeAt(j))) j++;
      const name = xhtml.slice(lt + 2, j);
      while (j < n && isSpace(xhtml.charCodeAt(j))) j++;
      if (xhtml.charCodeAt(j) !== 62 /* > */ || stack.pop() !== name) {
        wellFormed = false;
        break;
      }
      if (stack.length === 0) rootClosed = true;
      i = j + 1;
      continue;
    }
    // A start tag: name, attributes (quoted values), then > or />.
    let j = lt + 1;
    while (j < n && isNameChar(xhtml.charCodeAt(j))) j++;
    const name = xhtml.slice(lt + 1, j);
    if (name === '' || rootClosed) {
      wellFormed = false;
      break;
    }
    let xmlns: string | undefined;
    let attributeNames: string[] | undefined;
    let selfClosing = false;
    for (;;) {
      const before = j;
      while (j < n && isSpace(xhtml.charCodeAt(j))) j++;
      const c = xhtml.charCodeAt(j);
      if (c === 62) {
        j++;
        break;
      }
      if (c === 47 && xhtml.charCodeAt(j + 1) === 62) {
        selfClosing = true;
        j += 2;
        break;
      }
      const from = j;
      while (j < n && isNameChar(xhtml.charCodeAt(j))) j++;
      if (j === from || j === before) {
        wellFormed = false;
        break scan;
      }
      const attribute = xhtml.slice(from, j);
      while (j < n && isSpace(xhtml.charCodeAt(j))) j++;
      if (xhtml.charCodeAt(j) !== 61 /* = */) {
        wellFormed = false;
        break scan;
      }
      j++;
      while (j < n && isSpace(xhtml.charCodeAt(j))) j++;
      const quote = xhtml.charCodeAt(j);
      if (quote !== 34 && quote !== 39) {
        wellFormed = false;
        break scan;
      }
      const close = xhtml.indexOf(quote === 34 ? '"' : "'", j + 1);
      const lessThan = xhtml.indexOf('<', j + 1);
      if (close < 0 || (lessThan >= 0 && lessThan < close) || !ampersands.wellFormedIn(j + 1, close)) {
        wellFormed = false;
        break scan;
      }
      const value = xhtml.slice(j + 1, close);
      j = close + 1;
      if (attributeNames?.includes(attribute)) wellFormed = false;
      (attributeNames ??= []).push(attribute);
      if (attribute === 'xmlns') xmlns = value;
      else if (!attribute.startsWith('xmlns') && !ATTRIBUTES.has(attribute) && !ELEMENT_ATTRIBUTES.has(`${name}.${attribute}`)) {
        (disallowed ??= new Set()).add(`attribute ${attribute} on ${name}`);
      }
      if (attribute === 'id') {
        if ((seen ??= new Set()).has(value)) problems.push({ message: `id "${value}" is given more than once in the narrative`, warning: true });
        seen.add(value);
        anchors.push(value);
      } else if (attribute === 'name' && name === 'a') {
        anchors.push(value);
      } else if (attribute === 'src' && name === 'img' && value.startsWith('#')) {
        images.push(value.slice(1));
      }
    }
    if (stack.length === 0) {
      if (name !== 'div') problems.push({ message: `the narrative's root element must be a div, not ${name}` });
      if (xmlns !== XHTML_NS) problems.push({ message: `the narrative's root div must be in the XHTML namespace (xmlns="${XHTML_NS}")` });
    }
    if (!ELEMENTS.has(name)) (disallowed ??= new Set()).add(`element ${name}`);
    if (name === 'img') hasContent = true;
    if (selfClosing) {
      if (stack.length === 0) rootClosed = true;
    } else {
      stack.push(name);
    }
    i = j;
  }
  if (!wellFormed || stack.length > 0 || !rootClosed) {
    problems.unshift({ message: 'the narrative is not well-formed XHTML' });
    return { problems, anchors, images };
  }
  if (disallowed) {
    problems.push({ key: 'txt-1', message: `txt-1: the narrative may contain only basic XHTML formatting; not allowed here: ${[...disallowed].join(', ')}` });
  }
  if (!hasContent) problems.push({ key: 'txt-2', message: 'txt-2: the narrative must have some non-whitespace content' });
  return { problems, anchors, images };
}
