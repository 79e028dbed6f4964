/** A cached document version. */
export interface CachedVersion {
  bytes: Buffer;
  lastUpdated: Date;
  profileSet: string;
}

/**
 * Serialised document versions by `<id>@<version>`, least recently used evicted first, bounded
 * in bytes. Safe across node instances because such a key names one immutable version.
 */
export class DocumentCache {
  private readonly entries = new Map<string, CachedVersion>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): CachedVersion | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // re-insert to mark as most recently used
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Forgets a version (bytes written that nothing will point at). */
  delete(key: string): void {
    const hit = this.entries.get(key);
    if (!hit) return;
    this.entries.delete(key);
    this.bytes -= hit.bytes.length;
  }

  set(key: string, version: CachedVersion): void {
    if (version.bytes.length > this.maxBytes || this.entries.has(key)) return;
    this.entries.set(key, version);
    this.bytes += version.bytes.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.bytes.length;
    }
  }
}
