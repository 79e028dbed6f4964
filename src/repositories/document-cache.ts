import { LRUCache } from 'lru-cache';

/** A cached document version. */
export interface CachedVersion {
  bytes: Buffer;
  lastUpdated: Date;
  profileSet: string;
}

/**
 * Serialised document versions by `<id>@<version>`, least recently used evicted first, bounded
 * in bytes (lru-cache's `maxSize`). Safe across node instances because such a key names one
 * immutable version.
 */
export class DocumentCache {
  private readonly entries: LRUCache<string, CachedVersion>;

  constructor(maxBytes: number) {
    // lru-cache wants a positive size per entry; a version larger than the whole bound is not kept.
    this.entries = new LRUCache({ maxSize: Math.max(1, maxBytes), sizeCalculation: (version) => Math.max(1, version.bytes.length) });
  }

  /** The version, marked most recently used; undefined when not held. */
  get(key: string): CachedVersion | undefined {
    return this.entries.get(key);
  }

  /** Forgets a version (bytes written that nothing will point at). */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Keeps a version, evicting the least recently used beyond the bound; a key already held is left as it is (versions never change). */
  set(key: string, version: CachedVersion): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, version);
  }
}
