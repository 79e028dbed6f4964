import { afterAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_PROFILE_PACKAGES, OffloadingValidator } from '../../src/validation/index.js';
import { allSections, minimal, sharedValidator, type Json } from '../support/test-node.js';

const workers: OffloadingValidator[] = [];
afterAll(async () => {
  for (const w of workers) await w.close();
});

/** All-sections with its entries repeated (new fullUrls), about 1 MB. */
function largeDocument(): Json {
  const bundle = allSections();
  const extra: Json[] = [];
  for (let copy = 0; copy < 9; copy++) {
    for (const entry of (bundle['entry'] as Json[]).slice(2)) {
      if (entry['resource'].resourceType !== 'Observation') continue;
      extra.push({ ...structuredClone(entry), fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(copy).padStart(4, '0')}${String(extra.length).padStart(8, '0')}` });
    }
  }
  bundle['entry'].push(...extra);
  return bundle;
}

describe('validation of large documents on a worker thread', () => {
  it('gives the same verdicts as inline validation', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0);
    workers.push(offloading);
    const broken = minimal();
    delete broken['entry'][0].resource.status;
    const viaWorker = await offloading.validate(broken);
    expect(offloading.started).toBe(true);
    expect(viaWorker).toEqual(sharedValidator().validate(broken));
    expect(viaWorker.filter((i) => i.severity === 'error').map((i) => i.expression)).toContain('Bundle.entry[0].resource.status');
  });

  it('keeps the event loop free while a large document is validated', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 256 * 1024);
    workers.push(offloading);
    await offloading.validate(largeDocument()); // start the worker and warm it up
    const events: string[] = [];
    const ticks = setInterval(() => events.push('tick'), 1);
    const verdict = offloading.validate(largeDocument()).then(() => events.push('validated'));
    await verdict;
    clearInterval(ticks);
    expect(events.indexOf('validated')).toBeGreaterThan(2);
  });

  it('validates small documents inline', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 10 * 1024 * 1024);
    workers.push(offloading);
    await offloading.validate(minimal());
    expect(offloading.started).toBe(false);
  });
});
