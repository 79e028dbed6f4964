import { isJsonObject, type ParsedObject } from '../fhir/resources.js';
import { deepEqual } from './json-values.js';

const noContained = (v: ParsedObject): boolean | undefined => (v['contained'] === undefined ? true : undefined);
const has = (v: ParsedObject, key: string): boolean => v[key] !== undefined && !(Array.isArray(v[key]) && (v[key] as unknown[]).length === 0);
const entriesOf = (v: ParsedObject): ParsedObject[] => (Array.isArray(v['entry']) ? (v['entry'] as unknown[]).filter(isJsonObject) : []);
/** Whether an object has a member named `value…` (a `value[x]` choice), without building the list of its names. */
const hasValueMember = (v: ParsedObject): boolean => {
  for (const k in v) if (k.startsWith('value')) return true;
  return false;
};
/** The resourceType of the first entry that is an object (asked of every Bundle twice: no array built). */
const firstResourceType = (v: ParsedObject): unknown => {
  const entries = v['entry'];
  if (!Array.isArray(entries)) return undefined;
  for (const entry of entries) {
    if (!isJsonObject(entry)) continue;
    const resource = entry['resource'];
    return isJsonObject(resource) ? resource['resourceType'] : undefined;
  }
  return undefined;
};

/**
 * Base-spec invariants met on nearly every element, resource or Bundle, answered without FHIRPath
 * (which costs 0.1 ms and more each on large resources). Keyed by the exact expression, so a
 * profile that reuses a key with another expression still goes to FHIRPath; a native answer of
 * `undefined` does too. Each answer is tested against FHIRPath's (test/validation/native-invariants.test.ts).
 */
export const NATIVE_INVARIANTS: Record<string, (value: ParsedObject) => boolean | undefined> = {
  'contained.contained.empty()': noContained,
  'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': noContained,
  'contained.meta.security.empty()': noContained,
  "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()":
    noContained,
  'text.`div`.exists()': (v) => isJsonObject(v['text']) && v['text']['div'] !== undefined,
  // obs-7: no component repeats the Observation's own code when there is a value
  'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()': (v) => {
    if (!hasValueMember(v)) return true;
    const own = isJsonObject(v['code']) && Array.isArray(v['code']['coding']) ? (v['code']['coding'] as unknown[]) : [];
    const components = Array.isArray(v['component']) ? (v['component'] as unknown[]).filter(isJsonObject) : [];
    return components.every((c) => {
      const codings = isJsonObject(c['code']) && Array.isArray(c['code']['coding']) ? (c['code']['coding'] as unknown[]) : [];
      return !codings.some((coding) => own.some((o) => deepEqual(coding, o)));
    });
  },
  '(identifier.count() + name.count()) > 0': (v) => has(v, 'identifier') || v['name'] !== undefined,
  "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() or category.select($this='problem-list-item').empty()":
    (v) => {
      if (v['clinicalStatus'] !== undefined || !has(v, 'category')) return true;
      const status = v['verificationStatus'];
      const codings = isJsonObject(status) && Array.isArray(status['coding']) ? (status['coding'] as unknown[]).filter(isJsonObject) : [];
      return codings.some((c) => c['system'] === 'http://terminology.hl7.org/CodeSystem/condition-ver-status' && c['code'] === 'entered-in-error');
    },
  'duration.exists() implies duration >= 0': (v) => (v['duration'] === undefined ? true : typeof v['duration'] === 'number' ? v['duration'] >= 0 : undefined),
  'period.exists() implies period >= 0': (v) => (v['period'] === undefined ? true : typeof v['period'] === 'number' ? v['period'] >= 0 : undefined),
  "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())": (v) => {
    if (v['offset'] === undefined) return true;
    const when = Array.isArray(v['when']) ? (v['when'] as unknown[]) : [];
    return when.length > 0 && when.every((w) => !['C', 'CM', 'CD', 'CV'].includes(w as string));
  },
  'extension.exists() != value.exists()': (v) => has(v, 'extension') !== hasValueMember(v),
  // org-2 and org-3 (Organization.address and .telecom; also on other resources): nothing for home use.
  "where(use = 'home').empty()": (v) => (v['use'] === undefined ? true : typeof v['use'] === 'string' ? v['use'] !== 'home' : undefined),
  'resource.exists() or request.exists() or response.exists()': (v) => has(v, 'resource') || has(v, 'request') || has(v, 'response'),
  "fullUrl.contains('/_history/').not()": (v) => typeof v['fullUrl'] !== 'string' || !v['fullUrl'].includes('/_history/'),
  'text.exists() or entry.exists() or section.exists()': (v) => has(v, 'text') || has(v, 'entry') || has(v, 'section'),
  'emptyReason.empty() or entry.empty()': (v) => !has(v, 'emptyReason') || !has(v, 'entry'),
  "total.empty() or (type = 'searchset') or (type = 'history')": (v) => v['total'] === undefined || v['type'] === 'searchset' || v['type'] === 'history',
  "entry.search.empty() or (type = 'searchset')": (v) => v['type'] === 'searchset' || entriesOf(v).every((e) => !has(e, 'search')),
  "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))": (v) =>
    entriesOf(v).every((e) => has(e, 'request') === ['batch', 'transaction', 'history'].includes(String(v['type']))),
  "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))": (v) =>
    entriesOf(v).every((e) => has(e, 'response') === ['batch-response', 'transaction-response', 'history'].includes(String(v['type']))),
  "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": (v) => {
    if (v['type'] === 'history') return true;
    const keys = entriesOf(v)
      .filter((e) => typeof e['fullUrl'] === 'string')
      .map((e) => {
        const meta = isJsonObject(e['resource']) ? e['resource']['meta'] : undefined;
        return `${String(e['fullUrl'])}${isJsonObject(meta) && typeof meta['versionId'] === 'string' ? meta['versionId'] : ''}`;
      });
    return new Set(keys).size === keys.length;
  },
  "type = 'document' implies (identifier.system.exists() and identifier.value.exists())": (v) =>
    v['type'] !== 'document' || (isJsonObject(v['identifier']) && v['identifier']['system'] !== undefined && v['identifier']['value'] !== undefined),
  "type = 'document' implies (timestamp.hasValue())": (v) => v['type'] !== 'document' || typeof v['timestamp'] === 'string',
  "type = 'document' implies entry.first().resource.is(Composition)": (v) =>
    v['type'] !== 'document' || firstResourceType(v) === undefined || firstResourceType(v) === 'Composition',
  "type = 'message' implies entry.first().resource.is(MessageHeader)": (v) =>
    v['type'] !== 'message' || firstResourceType(v) === undefined || firstResourceType(v) === 'MessageHeader',
  'entry.tail().where(resource is Composition).empty()': (v) =>
    entriesOf(v)
      .slice(1)
      .every((e) => !isJsonObject(e['resource']) || e['resource']['resourceType'] !== 'Composition'),
};
