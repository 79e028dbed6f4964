import { describe, expect, it } from '@jest/globals';
import { documentContentHash } from '../../src/documents/content-hash.js';
import { allSections, minimal } from '../support/test-node.js';

describe('document content hash', () => {
  it('ignores key order and what the server assigns', () => {
    const bundle = minimal();
    const reordered = Object.fromEntries(Object.entries(bundle).reverse());
    const stored = { ...bundle, id: 'server-id', meta: { ...bundle['meta'], versionId: '3', lastUpdated: '2026-01-01T00:00:00Z' } };
    expect(documentContentHash(reordered)).toBe(documentContentHash(bundle));
    expect(documentContentHash(stored)).toBe(documentContentHash(bundle));
  });

  it('changes with any content, client meta included', () => {
    const base = documentContentHash(minimal());
    const retitled = minimal();
    retitled['entry'][0].resource.title = 'Other';
    const profiled = minimal();
    profiled['meta'] = { profile: ['http://example.org/other'] };
    const proto = JSON.parse('{"resourceType":"Bundle","__proto__":{"x":1}}') as Record<string, unknown>;
    expect(documentContentHash(retitled)).not.toBe(base);
    expect(documentContentHash(profiled)).not.toBe(base);
    expect(documentContentHash(proto)).not.toBe(documentContentHash({ resourceType: 'Bundle' }));
  });

  it('keeps the values stored records hold (computed by the first implementation)', () => {
    // Stored summaries keep their hash: a retry of a document pushed before any change to this
    // function must still be recognised, so the same content must always give the same value.
    expect(documentContentHash(minimal())).toBe('h2Wp2u5QBCrBg0WlegsgRT3SjINY6RlbVKRrWkfZY_E');
    expect(documentContentHash(allSections())).toBe('8q7o_LhqqN7YXd0-QrTVFqUUeXlyM-Qj6HhZ5NOLSjY');
    const proto = JSON.parse('{"resourceType":"Bundle","__proto__":{"x":1},"b":[{"z":1,"a":null}]}') as Record<string, unknown>;
    expect(documentContentHash(proto)).toBe('dyivX7KJs4Kmsjj7sZ-LQ4iM1h_QOkFOYhCmahOIJ_w');
  });
});
