import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/project-root.js';

/** Every environment variable src/config.ts reads is in README.md's configuration table. */
describe("README.md's configuration table", () => {
  it('names every variable of the configuration schema', () => {
    const source = readFileSync(join(projectRoot(), 'src', 'config.ts'), 'utf8');
    const schema = source.slice(source.indexOf('const environmentSchema'), source.indexOf('.unknown(true)'));
    const variables = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(variables.length).toBeGreaterThan(40);
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
    const documented = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect(variables.filter((v) => !documented.has(v))).toEqual([]);
  });
});
