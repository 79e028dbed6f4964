/**
 * Formats of identifiers that R4 fixes beyond the lexical rules of their primitive types: a
 * `urn:uuid:` is an RFC 4122 UUID, a `urn:oid:` an OID (ITU-T X.660: no leading zeros, first arc
 * 0-2), an Identifier in system `urn:ietf:rfc:3986` holds an absolute URI, and language codes are
 * BCP-47 tags (RFC 5646) whose two-letter primary subtag is an ISO 639-1 language.
 */

// Lower case, as R4's uuid type and the HL7 validator require.
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/** Why a uri-typed value is not a valid `urn:uuid:` or `urn:oid:`, if it is one of those. */
export function urnProblem(value: string): string | undefined {
  if (value.charCodeAt(0) !== 117 /* u */ || !value.startsWith('urn:')) return undefined;
  if (value.startsWith('urn:uuid:') && !UUID.test(value)) return `${value} is not a valid urn:uuid (RFC 4122: 8-4-4-4-12 lower-case hexadecimal digits)`;
  if (value.startsWith('urn:oid:') && !OID.test(value)) return `${value} is not a valid urn:oid (arcs of digits without leading zeros, the first 0, 1 or 2)`;
  return undefined;
}

/** Why an Identifier.value in system `urn:ietf:rfc:3986` is not an absolute URI. */
export function rfc3986ValueProblem(value: string): string | undefined {
  if (!ABSOLUTE_URI.test(value)) return 'an identifier in system urn:ietf:rfc:3986 must be an absolute URI';
  return urnProblem(value);
}

// ISO 639-1, with the deprecated codes the IANA registry still lists (in, iw, ji, jw, mo).
const ISO_639_1 = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ' +
    'ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik in io is it iu iw ja ji jv jw ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt ' +
    'lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq ' +
    'sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu'
  ).split(' '),
);

// RFC 5646 section 2.1 (langtag, privateuse and the irregular grandfathered tags); primary subtags
// of 4 to 8 letters are reserved or for registration, and none is registered.
const LANGTAG =
  /^([A-Za-z]{2,3})(?:-[A-Za-z]{3}){0,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?$/;
const PRIVATE_USE = /^[xX](?:-[A-Za-z0-9]{1,8})+$/;
const GRANDFATHERED = new Set(['en-gb-oed', 'i-ami', 'i-bnn', 'i-default', 'i-enochian', 'i-hak', 'i-klingon', 'i-lux', 'i-mingo', 'i-navajo', 'i-pwn', 'i-tao', 'i-tay', 'i-tsu', 'sgn-be-fr', 'sgn-be-nl', 'sgn-ch-de']);

const languageVerdicts = new Map<string, string | undefined>();

/** Why `tag` is not a BCP-47 language tag, or undefined when it is. */
export function languageTagProblem(tag: string): string | undefined {
  if (languageVerdicts.has(tag)) return languageVerdicts.get(tag);
  let problem: string | undefined;
  if (!PRIVATE_USE.test(tag) && !GRANDFATHERED.has(tag.toLowerCase())) {
    const m = LANGTAG.exec(tag);
    if (!m) problem = `${JSON.stringify(tag)} is not a BCP-47 language tag`;
    else if (m[1] !== undefined && m[1].length === 2 && !ISO_639_1.has(m[1].toLowerCase())) problem = `${JSON.stringify(tag)}: ${m[1]} is not an ISO 639-1 language`;
  }
  if (languageVerdicts.size < 1000) languageVerdicts.set(tag, problem);
  return problem;
}

/** Canonicals of the R4 value sets of language codes (bound to Resource.language and others). */
export const LANGUAGE_VALUE_SETS = new Set(['http://hl7.org/fhir/ValueSet/languages', 'http://hl7.org/fhir/ValueSet/all-languages']);

/** The code system of language codes. */
export const BCP_47 = 'urn:ietf:bcp:47';
