import type { Scalar } from './embedded-query.js';

/**
 * One field's index in the embedded store: value → the `_id`s of the documents holding it. A
 * value held by one document (identifiers, token uses: most of them) keeps its `_id` alone, not
 * a Set, so that the index adds few objects for the garbage collector to walk.
 */
export class ValueIndex {
  private readonly entries = new Map<Scalar, string | Set<string>>();

  add(value: Scalar, id: string): void {
    const held = this.entries.get(value);
    if (held === undefined) this.entries.set(value, id);
    else if (typeof held === 'string') {
      if (held !== id) this.entries.set(value, new Set([held, id]));
    } else held.add(id);
  }

  delete(value: Scalar, id: string): void {
    const held = this.entries.get(value);
    if (held === id) this.entries.delete(value);
    else if (typeof held === 'object') {
      held.delete(id);
      if (held.size === 1) this.entries.set(value, held.values().next().value as string);
    }
  }

  /** How many documents hold `value`. */
  count(value: Scalar): number {
    const held = this.entries.get(value);
    return held === undefined ? 0 : typeof held === 'string' ? 1 : held.size;
  }

  /** The `_id`s holding `value`, none when no document does. */
  ids(value: Scalar): readonly string[] | ReadonlySet<string> {
    const held = this.entries.get(value);
    return held === undefined ? [] : typeof held === 'string' ? [held] : held;
  }

  clear(): void {
    this.entries.clear();
  }
}
