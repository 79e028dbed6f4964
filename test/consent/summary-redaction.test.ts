import { describe, expect, it } from '@jest/globals';
import { withholdSections } from '../../src/consent/summary-redaction.js';
import { IPS_BUNDLE_PROFILE } from '../../src/validation/index.js';
import { allSections, sharedValidator, type Json } from '../support/test-node.js';

const PROBLEMS = '11450-4';
const MEDICATIONS = '10160-0';

describe('withholding sections', () => {
  const original = allSections();
  const redacted = withholdSections(original, new Set([PROBLEMS, MEDICATIONS])) as Json;
  const sections = redacted['entry'][0].resource.section as Json[];
  const section = (code: string) => sections.find((s) => s['code'].coding[0].code === code)!;

  it('keeps a withheld required section, empty, with emptyReason withheld and a neutral narrative', () => {
    for (const code of [PROBLEMS, MEDICATIONS]) {
      expect(section(code)['entry']).toBeUndefined();
      expect(section(code)['emptyReason'].coding[0].code).toBe('withheld');
      expect(section(code)['text'].div).toMatch(/withheld at the patient's request/);
    }
  });

  it('removes the resources only withheld sections referenced, keeps the rest, and labels the Bundle', () => {
    // The example references entries as Type/id.
    const urls = (b: Json) => new Set((b['entry'] as Json[]).map((e) => `${e['resource'].resourceType}/${e['resource'].id}`));
    const referencedBy = (code: string) =>
      ((original['entry'][0].resource.section as Json[]).find((s) => s['code'].coding[0].code === code)!['entry'] as Json[]).map((e) => e['reference'] as string);
    const withheld = [...referencedBy(PROBLEMS), ...referencedBy(MEDICATIONS)];
    expect(withheld.length).toBe(5);
    for (const url of withheld) {
      expect(urls(original).has(url)).toBe(true);
      expect(urls(redacted).has(url)).toBe(false);
    }
    for (const url of referencedBy('48765-2')) expect(urls(redacted).has(url)).toBe(true);
    expect((redacted['entry'] as Json[]).some((e) => e['resource'].resourceType === 'Patient')).toBe(true);
    expect(redacted['meta'].security).toContainEqual(expect.objectContaining({ code: 'REDACTED' }));
    expect((original['entry'] as Json[]).length).toBeGreaterThan((redacted['entry'] as Json[]).length);
  });

  it('leaves a document that is still a valid IPS, and its input unchanged', () => {
    const errors = (sharedValidator().validate(redacted, IPS_BUNDLE_PROFILE) as Array<{ severity: string }>).filter((i) => i.severity === 'error');
    expect(errors).toEqual([]);
    expect(allSections()).toEqual(original);
  });
});
