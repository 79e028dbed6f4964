import { describe, expect, it } from '@jest/globals';
import { SummaryTranslation } from '../../src/terminology/summary-translation.js';
import { allSections, demoTerminology, documentFor } from '../support/test-node.js';

const TRANSLATOR = { baseUrl: 'http://pt.example/fhir', country: 'PT' };
const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const provenanceId = (bytes: Buffer) => (JSON.parse(bytes.toString('utf8')) as { entry: { resource: { id: string } }[] }).entry.at(-1)!.resource.id;

describe('translated copies', () => {
  it('are made once per stored Buffer and language, and the original is the stored Buffer itself', () => {
    const translation = new SummaryTranslation(demoTerminology(), TRANSLATOR);
    const stored = bytesOf(allSections());
    const pt = translation.copyFor(stored, ['pt']);
    expect(translation.copyFor(stored, ['pt-PT'])).toBe(pt);
    expect(translation.copyFor(stored, ['en']).bytes).toBe(stored);
    expect(translation.copyFor(stored, []).bytes).toBe(stored);
    // Another Buffer of the same content is another stored version: translated anew.
    expect(provenanceId(translation.copyFor(Buffer.from(stored), ['pt']).bytes)).not.toBe(provenanceId(pt.bytes));
  });

  it('of summaries from other nodes (fresh bytes at each read) are found again by content', () => {
    const translation = new SummaryTranslation(demoTerminology(), TRANSLATOR);
    const received = bytesOf(allSections());
    const first = translation.copyFor(Buffer.from(received), ['fr'], { byContent: true });
    expect(translation.copyFor(Buffer.from(received), ['fr'], { byContent: true })).toBe(first);
    const changed = allSections();
    changed['timestamp'] = '2030-01-01T00:00:00Z';
    expect(translation.copyFor(bytesOf(changed), ['fr'], { byContent: true })).not.toBe(first);
  });

  it('of summaries known by content are bounded: the oldest are forgotten', () => {
    const translation = new SummaryTranslation(demoTerminology(), TRANSLATOR);
    const first = bytesOf(documentFor('B0', '2026-01-01T00:00:00Z'));
    const copy = translation.copyFor(first, ['it'], { byContent: true });
    for (let i = 1; i <= 1000; i++) translation.copyFor(bytesOf(documentFor(`B${i}`, '2026-01-01T00:00:00Z')), ['en'], { byContent: true });
    expect(translation.copyFor(first, ['it'], { byContent: true })).not.toBe(copy);
  });

  it('keep at most two languages per document', () => {
    const translation = new SummaryTranslation(demoTerminology(), TRANSLATOR);
    const stored = bytesOf(documentFor('L1', '2026-01-01T00:00:00Z'));
    const de = translation.copyFor(stored, ['de']);
    translation.copyFor(stored, ['fr']);
    expect(translation.copyFor(stored, ['fr'])).toBe(translation.copyFor(stored, ['fr']));
    translation.copyFor(stored, ['es']);
    expect(translation.copyFor(stored, ['de'])).not.toBe(de);
  });
});
