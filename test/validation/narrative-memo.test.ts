import { describe, expect, it } from '@jest/globals';
import { narrativeFindings, rememberedUnderFingerprint } from '../../src/validation/narrative.js';

describe('the narrative memo', () => {
  // Narratives from one template: the same length, differing only in an id, at characters the
  // fingerprint (the length and every 15th character here) does not read.
  const padding = 'x'.repeat(400);
  const narrative = (n: number): string => `<div xmlns="http://www.w3.org/1999/xhtml"><p id="a${String(n).padStart(3, '0')}">${padding}</p></div>`;

  it('gives each of many narratives sharing a fingerprint its own findings', () => {
    for (let n = 0; n < 60; n++) expect(narrativeFindings(narrative(n)).anchors).toEqual([`a${String(n).padStart(3, '0')}`]);
    // Asked again (remembered or checked anew), still their own.
    for (let n = 0; n < 60; n++) expect(narrativeFindings(narrative(n)).anchors).toEqual([`a${String(n).padStart(3, '0')}`]);
  });

  it('keeps a few texts per fingerprint, so a new narrative is compared with a few, not with every earlier one', () => {
    for (let n = 100; n < 400; n++) narrativeFindings(narrative(n));
    const kept = rememberedUnderFingerprint(narrative(0));
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(4);
    // The most recent is among them: the same text again is answered from the memo, the same findings object.
    expect(narrativeFindings(narrative(399))).toBe(narrativeFindings(narrative(399)));
  });
});
