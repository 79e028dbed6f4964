import type { DocumentCollection } from './document-collection.js';

interface Pending<T> {
  doc: T;
  resolve(inserted: boolean): void;
  reject(error: unknown): void;
}

/**
 * Group inserts for writes every request makes (token uses, request counts): an insert that
 * arrives while a write is under way waits for the next one, which carries everything waiting in
 * one round trip. An idle system writes at once; a busy one writes in groups. Each caller learns
 * whether its own document went in.
 */
export class InsertBatcher<T extends { _id: string }> {
  private queue: Pending<T>[] = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly collection: DocumentCollection<T>) {}

  /** Resolves to whether `doc` was inserted (false: its `_id` was taken). */
  insert(doc: T): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const results = await this.collection.insertEach(batch.map((p) => p.doc));
        batch.forEach((p, i) => p.resolve(results[i] === true));
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.writing = undefined;
  }
}
