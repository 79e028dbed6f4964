/**
 * Serialised documents by content id, least recently used evicted first, bounded in bytes.
 * Safe across node instances because a content id names one immutable version.
 */
export class DocumentCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(contentId: string): Buffer | undefined {
    const hit = this.entries.get(contentId);
    if (hit) {
      // re-insert to mark as most recently used
      this.entries.delete(contentId);
      this.entries.set(contentId, hit);
    }
    return hit;
  }

  set(contentId: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes || this.entries.has(contentId)) return;
    this.entries.set(contentId, bytes);
    this.bytes += bytes.length;
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= value.length;
    }
  }
}
