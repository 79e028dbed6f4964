import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, readMemoryLimits, type MemoryLimits, type MemoryProbe } from '../../src/config.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A machine of `totalBytes` whose cgroup files and Node's reading say what `files` and `constrained` say. */
function probe(totalBytes: number, files: Record<string, string> = {}, constrained: number | undefined = 0, heapLimit = 2 * GIB): MemoryProbe {
  return { totalmem: () => totalBytes, constrainedMemory: () => constrained, readFile: (path) => files[path], heapLimit: () => heapLimit };
}

/** A node with `memoryBytes` of memory and a V8 heap limit of `heapLimitBytes`. */
function limits(memoryBytes: number, heapLimitBytes = GIB): MemoryLimits {
  return { memoryBytes, memorySource: "the container's cgroup limit (/sys/fs/cgroup/memory.max)", heapLimitBytes };
}

/** Two validation threads and the default 64 MiB document cache: 256 + 2 × 128 + 64 MiB are the node's own. */
const NODE = { PONTIS_VALIDATION_THREADS: '2' };
const NODE_OWN = 576 * MIB;

describe('the memory a node may use', () => {
  it("is the machine's when no cgroup limits it (v2 `max`, v1's huge number, Node's 0 or 2^64)", () => {
    expect(readMemoryLimits(probe(24 * GIB))).toEqual({ memoryBytes: 24 * GIB, memorySource: 'the machine (os.totalmem())', heapLimitBytes: 2 * GIB });
    const unlimited = { '/sys/fs/cgroup/memory.max': 'max\n', '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' };
    expect(readMemoryLimits(probe(24 * GIB, unlimited, 2 ** 64)).memoryBytes).toBe(24 * GIB);
    expect(readMemoryLimits(probe(24 * GIB, unlimited, undefined)).memoryBytes).toBe(24 * GIB);
  });

  it("is the container's cgroup limit when below the machine's: v2 memory.max, v1 memory.limit_in_bytes, or Node's reading", () => {
    const v2 = readMemoryLimits(probe(24 * GIB, { '/sys/fs/cgroup/memory.max': `${2 * GIB}\n` }));
    expect(v2).toMatchObject({ memoryBytes: 2 * GIB, memorySource: expect.stringContaining('/sys/fs/cgroup/memory.max') });
    const v1 = readMemoryLimits(probe(24 * GIB, { '/sys/fs/cgroup/memory/memory.limit_in_bytes': `${3 * GIB}\n` }));
    expect(v1).toMatchObject({ memoryBytes: 3 * GIB, memorySource: expect.stringContaining('memory.limit_in_bytes') });
    // Node's reading follows the process's own cgroup; the smallest limit found holds.
    const node = readMemoryLimits(probe(24 * GIB, { '/sys/fs/cgroup/memory.max': `${2 * GIB}` }, GIB));
    expect(node).toMatchObject({ memoryBytes: GIB, memorySource: expect.stringContaining('process.constrainedMemory()') });
  });
});

describe('PONTIS_EMBEDDED_MAX_BYTES', () => {
  it("defaults to half of what the memory left beside the node's own holds, at 1.3 bytes of memory a counted byte", () => {
    const config = loadConfig(NODE, limits(4 * GIB));
    expect(config.embeddedMaxBytes).toBe(Math.floor(Math.floor((4 * GIB - NODE_OWN) / 1.3) / 2));
    expect(config.memory).toEqual(limits(4 * GIB));
  });

  it('follows the memory, not the heap limit (the documents are kept off the heap); the heap bounds the store at half its limit', () => {
    const small = loadConfig(NODE, limits(4 * GIB, 512 * MIB));
    const large = loadConfig(NODE, limits(4 * GIB, 8 * GIB));
    expect(small.embeddedMaxBytes).toBe(large.embeddedMaxBytes);
    expect(small.embeddedMaxBytes).toBeGreaterThan(512 * MIB);
    expect(small.embeddedMaxHeapBytes).toBe(256 * MIB);
    expect(large.embeddedMaxHeapBytes).toBe(4 * GIB);
    expect(loadConfig(NODE, limits(16 * GIB)).embeddedMaxBytes).toBeGreaterThan(4 * small.embeddedMaxBytes);
    // Each validation worker holds its own definitions: more of them leave less for the store.
    expect(loadConfig({ PONTIS_VALIDATION_THREADS: '8' }, limits(4 * GIB)).embeddedMaxBytes).toBe(Math.floor(Math.floor((4 * GIB - 1344 * MIB) / 1.3) / 2));
  });

  it('takes a bound the memory can hold, above the heap limit too', () => {
    expect(loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: String(2 * GIB) }, limits(4 * GIB, 512 * MIB)).embeddedMaxBytes).toBe(2 * GIB);
    expect(loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: '8388608' }, limits(4 * GIB)).embeddedMaxBytes).toBe(8388608);
  });

  it("refuses a bound above what the machine or container holds, naming the variable, the memory and where it was read", () => {
    const ceiling = Math.floor((4 * GIB - NODE_OWN) / 1.3);
    expect(loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: String(ceiling) }, limits(4 * GIB)).embeddedMaxBytes).toBe(ceiling);
    const refusal = (): unknown => loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: String(ceiling + 1) }, limits(4 * GIB));
    expect(refusal).toThrow(ConfigError);
    expect(refusal).toThrow(new RegExp(`PONTIS_EMBEDDED_MAX_BYTES: .*must be at most ${ceiling} bytes.*4096 MiB, the container's cgroup limit \\(/sys/fs/cgroup/memory\\.max\\);`));
    expect(() => loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: String(8 * GIB) }, limits(4 * GIB))).toThrow(/MONGODB_URI/);
  });

  it('names every problem at once: a bound too large beside another bad variable, and a bound too small', () => {
    expect(() => loadConfig({ ...NODE, PONTIS_COUNTRY: 'Austria', PONTIS_EMBEDDED_MAX_BYTES: String(8 * GIB) }, limits(4 * GIB))).toThrow(/PONTIS_COUNTRY[\s\S]*PONTIS_EMBEDDED_MAX_BYTES: .*must be at most/);
    expect(() => loadConfig({ ...NODE, PONTIS_EMBEDDED_MAX_BYTES: '1000' }, limits(4 * GIB))).toThrow(/PONTIS_EMBEDDED_MAX_BYTES.*greater than or equal to 1048576/);
  });
});
