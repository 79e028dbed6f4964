import { describe, expect, it } from '@jest/globals';
import { LRUCache } from 'lru-cache';
import { upToEntries } from '../src/bounded-cache.js';

describe('a cache bounded by entries counted as sizes', () => {
  it('holds at most its number of entries, the least recently used going first', () => {
    const cache = new LRUCache<string, string>(upToEntries(3));
    for (const k of ['a', 'b', 'c']) cache.set(k, k.toUpperCase());
    cache.get('a');
    cache.set('d', 'D');
    expect(cache.size).toBe(3);
    expect([...cache.keys()].sort()).toEqual(['a', 'c', 'd']);
  });

  it('allocates nothing per entry up front, unlike max (what start-up paid for)', () => {
    const before = process.memoryUsage().heapUsed;
    const caches = Array.from({ length: 5 }, () => new LRUCache<string, string>(upToEntries(1_000_000)));
    const grown = process.memoryUsage().heapUsed - before;
    expect(caches).toHaveLength(5);
    // With { max: 1_000_000 } each would hold arrays of a million slots (megabytes each).
    expect(grown).toBeLessThan(4 * 1024 * 1024);
  });
});
