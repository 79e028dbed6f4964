import { describe, expect, it } from '@jest/globals';
import { GroupWriter } from '../../src/repositories/group-writer.js';

describe('group writes', () => {
  it('write what one turn submitted together, then everything that waited in one group, each caller getting its own result', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const firstWrite = new Promise<void>((resolve) => (release = resolve));
    const writer = new GroupWriter<number, number>(async (items) => {
      groups.push([...items]);
      if (groups.length === 1) await firstWrite;
      return items.map((i) => i * 10);
    });
    const first = [writer.submit(1), writer.submit(2)];
    // The first group is under way: these wait for it.
    await Promise.resolve();
    await Promise.resolve();
    expect(groups).toEqual([[1, 2]]);
    const waiting = [writer.submit(3), writer.submit(4), writer.submit(5)];
    release();
    expect(await Promise.all([...first, ...waiting])).toEqual([10, 20, 30, 40, 50]);
    expect(groups).toEqual([[1, 2], [3, 4, 5]]);
  });

  it('reject every item of a failed group, and keep writing later ones', async () => {
    let fail = true;
    const writer = new GroupWriter<string, string>(async (items) => {
      if (fail) throw new Error('store down');
      return items.map((i) => i.toUpperCase());
    });
    await expect(writer.submit('a')).rejects.toThrow('store down');
    fail = false;
    await expect(writer.submit('b')).resolves.toBe('B');
    await writer.flush();
  });
});
