import { afterAll, describe, expect, it } from '@jest/globals';
import { documentContentHash } from '../../src/documents/content-hash.js';
import { checkDocumentRules } from '../../src/documents/document-rules.js';
import { withServerMeta, withServerMetaText } from '../../src/fhir/server-meta.js';
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

describe('validation of large documents on a worker pool', () => {
  it('gives the same verdicts and content hash as inline validation', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0, {}, 1);
    workers.push(offloading);
    const broken = minimal();
    delete broken['entry'][0].resource.status;
    const viaWorker = await offloading.checkDocument(JSON.stringify(broken), broken);
    expect(offloading.started).toBe(true);
    expect(viaWorker.issues).toEqual(sharedValidator().validate(broken));
    expect(viaWorker.issues.filter((i) => i.severity === 'error').map((i) => i.expression)).toContain('Bundle.entry[0].resource.status');
    expect(viaWorker.contentHash).toBe(documentContentHash(broken));
    expect(await offloading.validate(broken, undefined, JSON.stringify(broken))).toEqual(viaWorker.issues);
  });

  it("gives a push's text to store, on the worker as inline, and none for a document with errors", async () => {
    const meta = { versionId: '1', lastUpdated: '2026-12-02T14:00:00.000Z' };
    const viaWorker = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0, {}, 1);
    const inline = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, Number.MAX_SAFE_INTEGER, {}, 1);
    workers.push(viaWorker, inline);
    const document = allSections();
    const text = JSON.stringify(document);
    const expected = JSON.stringify(withServerMeta(document, 'Bundle', 'b-1', meta));
    const [pool, here] = [await viaWorker.checkPush(text, document), await inline.checkPush(text, document)];
    expect(viaWorker.started).toBe(true);
    expect(inline.started).toBe(false);
    for (const checked of [pool, here]) {
      expect(checked.issues).toEqual(sharedValidator().validate(document));
      expect(withServerMetaText(checked.serialised!, 'Bundle', 'b-1', meta)).toBe(expected);
    }
    const broken = allSections();
    delete broken['entry'][0].resource.status;
    for (const validator of [viaWorker, inline]) {
      const refused = await validator.checkPush(JSON.stringify(broken), broken);
      expect(refused.issues.filter((i) => i.severity === 'error').map((i) => i.expression)).toContain('Bundle.entry[0].resource.status');
      expect(refused.serialised).toBeUndefined();
    }
  });

  it("checks a push from its text alone, on the worker as inline: the body's 400s, the rules' and the profile's 422s, else facts and text to store", async () => {
    const meta = { versionId: '1', lastUpdated: '2026-12-02T14:00:00.000Z' };
    const viaWorker = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0, {}, 1);
    const inline = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, Number.MAX_SAFE_INTEGER, {}, 1);
    workers.push(viaWorker, inline);
    const document = allSections();
    const noPatient = allSections();
    noPatient['entry'] = (noPatient['entry'] as Json[]).filter((e) => e['resource'].resourceType !== 'Patient');
    const noStatus = allSections();
    delete noStatus['entry'][0].resource.status;
    const refusals: [string, number, string | undefined][] = [
      ['{"resourceType": "Bundle", ', 400, undefined],
      [JSON.stringify({ resourceType: 'Patient' }), 400, 'resourceType'],
      [JSON.stringify({ ...document, __proto__x: 1 }).replace('__proto__x', '__proto__'), 400, undefined],
      [JSON.stringify(noPatient), 422, undefined],
      [JSON.stringify(noStatus), 422, 'Bundle.entry[0].resource.status'],
    ];
    for (const validator of [viaWorker, inline]) {
      for (const [text, status, expression] of refusals) {
        const checked = await validator.checkPushText(text);
        expect('refused' in checked && checked.refused.status).toBe(status);
        if (expression !== undefined && 'refused' in checked) expect(checked.refused.problems.map((p) => p.expression)).toContain(expression);
      }
      const checked = await validator.checkPushText(JSON.stringify(document));
      if ('refused' in checked) throw new Error(`refused: ${checked.refused.problems[0]?.message}`);
      const rules = checkDocumentRules(document);
      expect(rules.ok && checked.facts).toEqual(rules.ok && rules.facts);
      expect(checked.issues).toEqual(sharedValidator().validate(document));
      expect(withServerMetaText(checked.serialised, 'Bundle', 'b-1', meta)).toBe(JSON.stringify(withServerMeta(document, 'Bundle', 'b-1', meta)));
      // Parsed on the event loop, the document is kept for the caller; a worker's stays there.
      expect(checked.document).toEqual(validator === inline ? document : undefined);
    }
    expect(viaWorker.started).toBe(true);
    expect(inline.started).toBe(false);
  });

  it('keeps the event loop free while a large document is validated', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 256 * 1024, {}, 1);
    workers.push(offloading);
    const large = largeDocument();
    await offloading.checkDocument(JSON.stringify(large), large); // start the worker and warm it up
    const events: string[] = [];
    const ticks = setInterval(() => events.push('tick'), 1);
    const verdict = offloading.checkDocument(JSON.stringify(large), large).then(() => events.push('validated'));
    await verdict;
    clearInterval(ticks);
    expect(events.indexOf('validated')).toBeGreaterThan(2);
  });

  it('validates small documents, and documents given without their text, inline', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 64 * 1024, {}, 1);
    workers.push(offloading);
    const small = minimal();
    await offloading.checkDocument(JSON.stringify(small), small);
    await offloading.validate(largeDocument());
    expect(offloading.started).toBe(false);
  });

  it('measures a document by the UTF-8 bytes of its text, not by its length in characters', async () => {
    const document = minimal();
    document['entry'][0].resource.title = 'Patientenübersicht '.repeat(200);
    const text = JSON.stringify(document);
    const bytes = Buffer.byteLength(text, 'utf8');
    expect(text.length).toBeLessThan(bytes);
    const under = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, bytes + 1, {}, 1);
    const at = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, bytes, {}, 1);
    workers.push(under, at);
    await under.checkDocument(text, document);
    await at.checkDocument(text, document);
    expect(under.started).toBe(false);
    expect(at.started).toBe(true);
  });

  it('answers 503 for the documents a dying worker held, never hangs, and validates again on a new worker', async () => {
    const offloading = new OffloadingValidator(sharedValidator(), DEFAULT_PROFILE_PACKAGES, 0, {}, 1);
    workers.push(offloading);
    const large = largeDocument();
    const text = JSON.stringify(large);
    await offloading.checkDocument(text, large); // the worker is up and has its definitions
    const [worker] = offloading.workerThreads;
    const held = offloading.checkDocument(text, large).then(
      () => 'validated',
      (error: unknown) => error,
    );
    await worker!.terminate();
    const refusal = (await held) as { isBoom?: boolean; output?: { statusCode: number; headers: Record<string, string> }; data?: { code: string; message: string }[] };
    expect(refusal.isBoom).toBe(true);
    expect(refusal.output?.statusCode).toBe(503);
    expect(refusal.output?.headers['Retry-After']).toBe('1');
    expect(refusal.data?.[0]?.code).toBe('transient');
    expect(refusal.data?.[0]?.message).toMatch(/validation worker stopped/);
    const again = await offloading.checkDocument(text, large);
    expect(again.contentHash).toBe(documentContentHash(large));
    expect(offloading.workerThreads[0]).not.toBe(worker);
  });
});
