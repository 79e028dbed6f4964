import { describe, expect, it } from '@jest/globals';
import { DocumentCache } from '../../src/repositories/document-cache.js';

const version = (size: number, profileSet = 'p') => ({ bytes: Buffer.alloc(size, 0x20), lastUpdated: new Date(0), profileSet });

describe('DocumentCache: document versions bounded in bytes', () => {
  it('evicts the least recently used versions once the bytes held pass the bound', () => {
    const cache = new DocumentCache(100);
    cache.set('a@1', version(40));
    cache.set('b@1', version(40));
    expect(cache.get('a@1')).toBeDefined(); // a is now the most recently used
    cache.set('c@1', version(40));
    expect(cache.get('b@1')).toBeUndefined();
    expect(cache.get('a@1')?.bytes.length).toBe(40);
    expect(cache.get('c@1')?.bytes.length).toBe(40);
  });

  it('does not keep a version larger than the whole bound', () => {
    const cache = new DocumentCache(100);
    cache.set('small@1', version(10));
    cache.set('huge@1', version(101));
    expect(cache.get('huge@1')).toBeUndefined();
    expect(cache.get('small@1')).toBeDefined();
  });

  it('keeps the first copy of a version and forgets a deleted one', () => {
    const cache = new DocumentCache(100);
    cache.set('a@1', version(10, 'first'));
    cache.set('a@1', version(10, 'second'));
    expect(cache.get('a@1')?.profileSet).toBe('first');
    cache.delete('a@1');
    expect(cache.get('a@1')).toBeUndefined();
    // The deleted bytes no longer count against the bound.
    cache.set('b@1', version(60));
    cache.set('c@1', version(40));
    expect(cache.get('b@1')).toBeDefined();
    expect(cache.get('c@1')).toBeDefined();
  });
});
