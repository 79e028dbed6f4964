import type { LRUCache } from 'lru-cache';

/**
 * Options of an lru-cache that holds at most `entries` entries, each counted as size 1 rather than
 * bounded by `max`: with `max`, lru-cache allocates its arrays for every entry up front (three
 * caches of 100,000–200,000 entries cost 114 ms of the node's start-up and their memory before
 * any use); counted by size, they grow with what is remembered.
 */
export function upToEntries<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(entries: number): LRUCache.Options<K, V, unknown> {
  return { maxSize: entries, sizeCalculation: () => 1 };
}
