import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogueError, loadTerminologyCatalogue, SECTION_TITLE_USE } from '../../src/terminology/catalogue-loader.js';
import { projectRoot } from '../../src/project-root.js';
import { loadConfig } from '../../src/config.js';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A catalogue folder holding `files` (objects written as JSON, strings as they are). */
function folderWith(files: Record<string, unknown>): string {
  const folder = mkdtempSync(join(tmpdir(), 'pontis-terminology-'));
  folders.push(folder);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(folder, name), typeof content === 'string' ? content : JSON.stringify(content));
  return folder;
}

/** A CodeSystem supplement of SNOMED CT with `concept`. */
function supplement(concept: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'CodeSystem', url: 'https://example.org/CodeSystem/sct-pt', status: 'active', content: 'supplement', supplements: 'http://snomed.info/sct', concept, ...extra };
}

/** The message of the error a load throws. */
function refusal(folder: string): string {
  try {
    loadTerminologyCatalogue(folder);
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogueError);
    return (error as Error).message;
  }
  throw new Error('the catalogue was accepted');
}

const SCT = 'http://snomed.info/sct';

describe('the demo catalogue', () => {
  const catalogue = loadTerminologyCatalogue(join(projectRoot(), 'terminology'));

  it('names itself, in six languages, and says it is for demonstration', () => {
    expect(catalogue.citation).toBe('pontis.demo.terminology#0.1.0');
    expect([...catalogue.languages.values()].sort()).toEqual(['de', 'en', 'es', 'fr', 'it', 'pt']);
    expect(catalogue.identity.experimental).toBe(true);
    expect(catalogue.identity.description).toMatch(/NOT clinically validated/);
    const counts = catalogue.counts();
    expect(counts.files).toBeGreaterThan(30);
    expect(counts.concepts).toBeGreaterThan(175);
    expect(counts.designations).toBe(counts.concepts * 6 + 16 * 6);
  });

  it('says in every file that its translations are not clinically validated', () => {
    for (const file of ['CodeSystem-snomed-ct.json', 'CodeSystem-loinc.json', 'CodeSystem-ucum.json']) {
      const resource = JSON.parse(readFileSync(join(projectRoot(), 'terminology', file), 'utf8')) as Record<string, unknown>;
      expect(resource['experimental']).toBe(true);
      expect(resource['description']).toMatch(/NOT clinically validated/);
      expect(resource['content']).toBe('supplement');
    }
  });

  it('looks a code up by system, code and language', () => {
    expect(catalogue.display(SCT, '38341003', ['pt'])).toEqual({ language: 'pt', value: 'Hipertensão arterial' });
    expect(catalogue.display(SCT, '38341003', ['pt-pt', 'pt'])?.value).toBe('Hipertensão arterial');
    expect(catalogue.title('http://loinc.org', '48765-2', ['de'])).toEqual({ language: 'de', value: 'Allergien und Intoleranzen' });
    expect(catalogue.display(SCT, '0000000', ['pt'])).toBeUndefined();
    expect(catalogue.display(SCT, '38341003', ['ja'])).toBeUndefined();
  });

  it('is what PONTIS_TERMINOLOGY names by default, and the image carries it', () => {
    expect(loadConfig({}).terminologyPath).toBe(join(projectRoot(), 'terminology'));
    expect(loadConfig({ PONTIS_TERMINOLOGY: '/srv/mtc' }).terminologyPath).toBe('/srv/mtc');
    expect(readFileSync(join(projectRoot(), 'Dockerfile'), 'utf8')).toMatch(/^COPY terminology \.\/terminology$/m);
  });
});

describe('loading a catalogue', () => {
  it('reads CodeSystem supplements, ValueSets (compose and expansion) and the display of a resource in its language', () => {
    const folder = folderWith({
      'package.json': { name: 'at.mtc', version: '2026.1' },
      'sct.json': supplement([
        {
          code: '38341003',
          designation: [
            { language: 'pt-PT', value: 'Hipertensão' },
            { language: 'pt-PT', use: { system: SCT, code: '900000000000013009' }, value: 'Tensão alta' }, // a synonym: not a display
          ],
          concept: [{ code: '59621000', designation: [{ language: 'pt-PT', value: 'Hipertensão essencial' }] }],
        },
      ]),
      'loinc-titles.json': supplement([{ code: '48765-2', designation: [{ language: 'fr', use: SECTION_TITLE_USE, value: 'Allergies' }] }], {
        url: 'https://example.org/CodeSystem/loinc-fr',
        supplements: 'http://loinc.org|2.77',
      }),
      'vs.json': {
        resourceType: 'ValueSet',
        status: 'active',
        language: 'it',
        compose: { include: [{ system: 'http://www.whocc.no/atc', concept: [{ code: 'C10AA01', display: 'simvastatina' }] }] },
        expansion: { contains: [{ system: 'http://loinc.org', code: '718-7', designation: [{ language: 'it', value: 'Emoglobina' }], contains: [{ system: SCT, code: '80891009', designation: [{ language: 'it', value: 'Cuore' }] }] }] },
      },
      'README.md': 'not read',
    });
    const catalogue = loadTerminologyCatalogue(folder);
    expect(catalogue.citation).toBe('at.mtc#2026.1');
    expect(catalogue.identity.experimental).toBe(false);
    expect(catalogue.display(SCT, '38341003', ['pt-pt'])?.value).toBe('Hipertensão');
    expect(catalogue.display(SCT, '59621000', ['pt-pt'])?.value).toBe('Hipertensão essencial');
    expect(catalogue.title('http://loinc.org', '48765-2', ['fr'])?.value).toBe('Allergies');
    expect(catalogue.display('http://loinc.org', '48765-2', ['fr'])).toBeUndefined();
    expect(catalogue.display('http://www.whocc.no/atc', 'C10AA01', ['it'])?.value).toBe('simvastatina');
    expect(catalogue.display('http://loinc.org', '718-7', ['it'])?.value).toBe('Emoglobina');
    expect(catalogue.display(SCT, '80891009', ['it'])?.value).toBe('Cuore');
    expect(catalogue.languages).toEqual(new Map([['pt-pt', 'pt-PT'], ['fr', 'fr'], ['it', 'it']]));
  });

  it('versions a catalogue without a manifest by its content', () => {
    const a = loadTerminologyCatalogue(folderWith({ 'sct.json': supplement([{ code: '1', designation: [{ language: 'de', value: 'eins' }] }]) }));
    const b = loadTerminologyCatalogue(folderWith({ 'sct.json': supplement([{ code: '1', designation: [{ language: 'de', value: 'Eins' }] }]) }));
    expect(a.identity.version).toMatch(/^sha256:/);
    expect(a.identity.version).not.toBe(b.identity.version);
  });

  it('refuses a malformed file, naming the file and the FHIRPath of each fault', () => {
    const folder = folderWith({
      'bad.json': supplement([
        { code: '1', designation: [{ language: 'pt_PT', value: 'um' }] },
        { code: ' 2', designation: [{ language: 'pt', value: '   ' }] },
        { designation: [] },
      ]),
    });
    const message = refusal(folder);
    expect(message).toContain(`${join(folder, 'bad.json')}: CodeSystem.concept[0].designation[0].language: must be a BCP 47 language tag`);
    expect(message).toContain('CodeSystem.concept[1].code: must be a FHIR code');
    expect(message).toContain('CodeSystem.concept[1].designation[0].value: must not be blank');
    expect(message).toContain('CodeSystem.concept[2].code: is required');
  });

  it('refuses a supplement that names no code system, and a ValueSet without status', () => {
    const message = refusal(
      folderWith({
        'a.json': { resourceType: 'CodeSystem', url: 'https://example.org/a', status: 'active', content: 'supplement' },
        'b.json': { resourceType: 'ValueSet', compose: { include: [] } },
      }),
    );
    expect(message).toMatch(/a\.json: CodeSystem\.supplements: is required/);
    expect(message).toMatch(/b\.json: ValueSet\.status: is required/);
  });

  it('refuses what is not JSON, not a CodeSystem or ValueSet, or a bad manifest', () => {
    const message = refusal(folderWith({ 'broken.json': '{"resourceType": "CodeSystem",', 'other.json': { resourceType: 'Patient' }, 'package.json': { name: 'x y' } }));
    expect(message).toMatch(/broken\.json: is not JSON/);
    expect(message).toMatch(/other\.json: resourceType: must be CodeSystem or ValueSet, is "Patient"/);
    expect(message).toMatch(/package\.json: name: must be a package name/);
    expect(message).toMatch(/package\.json: version: is required/);
  });

  it('refuses two different displays of one code in one language, naming both places', () => {
    const message = refusal(
      folderWith({
        'a.json': supplement([{ code: '38341003', designation: [{ language: 'pt', value: 'Hipertensão' }] }]),
        'b.json': supplement([{ code: '38341003', designation: [{ language: 'PT', value: 'Tensão alta' }] }]),
      }),
    );
    expect(message).toMatch(/b\.json: CodeSystem\.concept\[0\]\.designation\[0\]: display of http:\/\/snomed\.info\/sct\|38341003 in PT is "Tensão alta", but .*a\.json: CodeSystem\.concept\[0\]\.designation\[0\] says "Hipertensão"/);
  });

  it('refuses a folder that is not there', () => {
    expect(refusal(join(tmpdir(), 'pontis-no-such-terminology'))).toMatch(/pontis-no-such-terminology: cannot be read \(ENOENT\)/);
  });
});

describe('a node whose catalogue is malformed', () => {
  it('does not start, and says which variable, file and FHIRPath', () => {
    const folder = folderWith({ 'bad.json': supplement([{ code: '1', designation: [{ language: 'pt_PT', value: 'um' }] }]) });
    const run = spawnSync(process.execPath, ['dist/src/main.js'], {
      cwd: projectRoot(),
      env: { ...process.env, PONTIS_TERMINOLOGY: folder, PORT: '0', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('PONTIS_TERMINOLOGY: terminology catalogue refused:');
    expect(run.stderr).toContain(`${join(folder, 'bad.json')}: CodeSystem.concept[0].designation[0].language: must be a BCP 47 language tag`);
  });
});
