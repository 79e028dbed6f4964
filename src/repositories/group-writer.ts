interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: items submitted in the same turn of the event loop go out in one call of
 * `write` (a push's write-token claim and its patient identifier's claim: one command), and an
 * item that arrives while a write is under way waits for the next one, which carries everything
 * waiting. An idle system writes at the end of the current turn (a microtask later); a busy one
 * writes in groups. Each caller's promise settles with its own item's result, once written.
 */
export class GroupWriter<T, R> {
  private queue: Pending<T, R>[] = [];
  private writing: Promise<void> | undefined;

  /**
   * @param write writes a group, resolving to one result per item, in order; if it throws,
   *   every item of the group is rejected with the error.
   */
  constructor(private readonly write: (items: readonly T[]) => Promise<readonly R[]>) {}

  /** Resolves to the item's result once its group is written. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // Drained once the current turn's synchronous work is done, so that its other items join.
      this.writing ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Waits for groups under way (shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        const results = await this.write(group.map((p) => p.item));
        group.forEach((p, i) => p.resolve(results[i] as R));
      } catch (error) {
        for (const p of group) p.reject(error);
      }
    }
    this.writing = undefined;
  }
}
