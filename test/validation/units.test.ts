import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { compactStructureDefinition, trimTerminology } from '../../src/validation/base-definitions.js';
import { DefinitionRegistry } from '../../src/validation/definitions.js';
import { compileElementTree, findByPath } from '../../src/validation/element-tree.js';
import { isRegExpSpace, lexicalRule, primitiveProblem } from '../../src/validation/primitives.js';
import { deepEqual, matchesPattern } from '../../src/validation/json-values.js';
import { createValidator } from '../../src/validation/index.js';
import { Terminology } from '../../src/validation/terminology.js';
import { ipsExample } from '../support/test-node.js';

describe('primitive formats', () => {
  it.each([
    ['date', '2024', true],
    ['date', '2024-02-29', true],
    ['date', '2023-02-29', false],
    ['date', '2024-1-01', false],
    ['dateTime', '2024-05-01T10:00:00+02:00', true],
    ['dateTime', '2024-05-01T10:00:00', false],
    ['instant', '2024-05-01T10:00:00.123Z', true],
    ['instant', '2024-05-01', false],
    ['time', '23:59:60', true],
    ['code', 'final', true],
    ['code', ' final', false],
    ['id', 'abc-123.x', true],
    ['id', 'a'.repeat(65), false],
    ['uri', 'http://a b', false],
    ['oid', 'urn:oid:1.2.40.0', true],
    ['oid', 'urn:oid:1.02', false],
    ['integer', 3, true],
    ['integer', 3.5, false],
    ['positiveInt', 0, false],
    ['unsignedInt', 0, true],
    ['decimal', '1.5', false],
    ['boolean', 'true', false],
    ['string', '', false],
    ['base64Binary', 'aGVsbG8=', true],
    ['xhtml', '<div xmlns="http://www.w3.org/1999/xhtml">x</div>', true],
    ['xhtml', 'plain', false],
  ])('%s %j valid: %s', (type, value, valid) => {
    expect(primitiveProblem(type, value) === undefined).toBe(valid);
  });
});

describe('lexical scans of string, markdown, code, id, uri, url and canonical', () => {
  it('take exactly the code units the regexes call whitespace', () => {
    for (let c = 0; c <= 0xffff; c++) expect([c, isRegExpSpace(c)]).toEqual([c, /\s/.test(String.fromCharCode(c))]);
  });

  it.each(['string', 'markdown', 'code', 'id', 'uri', 'url', 'canonical'])('%s: give the answer of the published regex', (type) => {
    const rule = lexicalRule(type)!;
    const samples = ['', ' ', 'a', 'a b', 'a  b', ' a', 'a ', 'a\tb', 'a\nb', 'final', 'abc-123.x', 'a'.repeat(64), 'a'.repeat(65), 'http://a b', 'urn:uuid:x', 'é', 'a_b'];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      samples.push(ch, `a${ch}b`, `${ch}a`, `a${ch}`);
    }
    let accepted = 0;
    for (const value of samples) {
      const lexical = rule.lexical(value);
      if (lexical !== rule.pattern.test(value)) expect({ type, value, lexical }).toEqual({ type, value, lexical: !lexical });
      if (lexical) accepted++;
    }
    // Both answers occur: the scan is not trivially true or false.
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThan(samples.length);
  });
});

describe('fixed and pattern values', () => {
  const coding = { system: 's', code: 'c' };
  it.each([
    [{ ...coding }, coding, true, true],
    [{ ...coding, display: 'd' }, coding, false, true],
    [{ system: 's' }, coding, false, false],
    [{ system: 's', code: 'x' }, coding, false, false],
    [{ coding: [{ ...coding }, { system: 't', code: 'd' }] }, { coding: [coding] }, false, true],
    [{ coding: [{ system: 't', code: 'd' }] }, { coding: [coding] }, false, false],
    [{ coding: { ...coding } }, { coding: [coding] }, false, true],
    [[1, 2], [1, 2], true, true],
    [[1, 2, 3], [1, 2], false, true],
    [[2, 1], [1, 2], false, true],
    [[1], [1, 2], false, false],
    ['a', 'a', true, true],
    [1, '1', false, false],
    [null, {}, false, false],
    [{}, {}, true, true],
  ])('%j against %j: fixed %s, pattern %s', (actual, expected, fixed, pattern) => {
    expect(deepEqual(actual, expected)).toBe(fixed);
    expect(matchesPattern(actual, expected)).toBe(pattern);
  });
});

describe('empty elements (ele-1)', () => {
  const validator = createValidator();
  it.each([
    ['a Coding', (p: Record<string, unknown>) => ((p['identifier'] as Record<string, unknown>[])[0]!['type'] = { coding: [{}] }), 'identifier[0].type.coding[0]'],
    ['a Reference', (p: Record<string, unknown>) => (p['managingOrganization'] = {}), 'managingOrganization'],
    ['an Extension', (p: Record<string, unknown>) => (p['extension'] = [{}]), 'extension[0]'],
    ['an Identifier', (p: Record<string, unknown>) => ((p['identifier'] as unknown[])[0] = {}), 'identifier[0]'],
    ['a backbone element with required members', (p: Record<string, unknown>) => (p['link'] = [{}]), 'link[0]'],
  ])('%s: one ele-1 error, and nothing else about it or under it', (_what, mutate, at) => {
    const patient = ipsExample('Patient-66033.json');
    mutate(patient);
    const about = validator.validate(patient).filter((i) => i.expression === `Patient.${at}` || i.expression.startsWith(`Patient.${at}.`));
    expect(about).toEqual([expect.objectContaining({ severity: 'error', key: 'ele-1', expression: `Patient.${at}` })]);
  });
});

describe('element trees', () => {
  const registry = DefinitionRegistry.fhirR4().addPackage('profiles/hl7.fhir.uv.ips-2.0.0/package');

  it('hang slices under the sliced element, with their own children', () => {
    const tree = compileElementTree(registry.get('http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips')!);
    const section = tree.children.find((c) => c.name === 'section')!;
    expect(section.slicing?.discriminators).toEqual([{ type: 'value', path: 'code' }]);
    const problems = section.slices.find((s) => s.sliceName === 'sectionProblems')!;
    expect(problems.min).toBe(1);
    expect(problems.children.find((c) => c.name === 'code')?.pattern).toMatchObject({ coding: [{ code: '11450-4' }] });
  });

  it('know choice names, repetition from the base, and content references', () => {
    const tree = compileElementTree(registry.base('Composition')!);
    const subsection = findByPath(tree, 'Composition.section.section')!;
    expect(subsection.contentReference).toBe('#Composition.section');
    const observation = compileElementTree(registry.base('Observation')!);
    const value = observation.children.find((c) => c.name === 'value')!;
    expect(value.isChoice).toBe(true);
    expect(value.choiceKeys.get('valueQuantity')).toBe('Quantity');
    expect(observation.children.find((c) => c.name === 'status')!.repeats).toBe(false);
  });
});

describe('terminology', () => {
  const terminology = new Terminology().add([
    { resourceType: 'CodeSystem', url: 'urn:cs', content: 'complete', concept: [{ code: 'a', concept: [{ code: 'a1' }] }, { code: 'b' }] },
    { resourceType: 'ValueSet', url: 'urn:all', compose: { include: [{ system: 'urn:cs' }] } },
    { resourceType: 'ValueSet', url: 'urn:some', compose: { include: [{ system: 'urn:cs', concept: [{ code: 'b' }] }] } },
    { resourceType: 'ValueSet', url: 'urn:filtered', compose: { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }] } },
    { resourceType: 'ValueSet', url: 'urn:not-a', compose: { include: [{ system: 'urn:cs' }], exclude: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }] } },
    { resourceType: 'ValueSet', url: 'urn:by-property', compose: { include: [{ system: 'urn:cs', filter: [{ property: 'status', op: '=', value: 'active' }] }] } },
    { resourceType: 'ValueSet', url: 'urn:without-b', compose: { include: [{ valueSet: ['urn:all'] }], exclude: [{ system: 'urn:cs', concept: [{ code: 'b' }] }] } },
  ]);

  it('expands whole code systems (nested concepts too), concept lists, imports and excludes', () => {
    expect([...terminology.expand('urn:all|1.0')!.codings]).toEqual(['urn:cs|a', 'urn:cs|a1', 'urn:cs|b']);
    expect([...terminology.expand('urn:some')!.codes]).toEqual(['b']);
    expect([...terminology.expand('urn:without-b')!.codes]).toEqual(['a', 'a1']);
  });

  it('expands hierarchy filters on complete local code systems, and nothing else', () => {
    expect([...terminology.expand('urn:filtered')!.codes]).toEqual(['a', 'a1']);
    expect([...terminology.expand('urn:not-a')!.codes]).toEqual(['b']);
    expect(terminology.expand('urn:by-property')).toBeUndefined();
    expect(terminology.expand('urn:unknown')).toBeUndefined();
  });
});

describe('extensions of HL7 outside the R4 core (the extensions pack is not loaded)', () => {
  it('are said once per validation as information, and the parts of a complex extension not at all', () => {
    const issues = createValidator()
      .validate(ipsExample('Bundle-bundle-ips-all-sections.json'))
      .filter((i) => i.message.includes('extension'));
    expect(issues.map((i) => [i.severity, i.message])).toEqual([['information', 'extension http://hl7.org/fhir/StructureDefinition/textLink is HL7\'s but not loaded here; not checked']]);
  });
});

describe('bindings', () => {
  const v = (): ReturnType<typeof createValidator> => (shared ??= createValidator());
  let shared: ReturnType<typeof createValidator> | undefined;

  it('required: an error outside an expandable value set', () => {
    const composition = ipsExample('Composition-composition-minimal.json');
    composition['status'] = 'sketch';
    expect(v().validate(composition)).toContainEqual(expect.objectContaining({ severity: 'error', expression: 'Composition.status', message: expect.stringContaining('required value set') }));
  });

  it('preferred and extensible: a warning', () => {
    const issues = v().validate(ipsExample('Immunization-75680.json'));
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'warning', expression: 'Immunization.language', message: expect.stringContaining('preferred value set') }));
  });

  it('a value set that cannot be expanded here: information, once per value set', () => {
    const issues = v()
      .validate(ipsExample('Bundle-bundle-ips-all-sections.json'))
      .filter((i) => i.severity === 'information' && i.message.startsWith('value set '));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.code === 'not-supported' && i.message.includes('cannot be expanded here'))).toBe(true);
    const sets = issues.map((i) => i.message.split(' ')[2]);
    expect(new Set(sets).size).toBe(sets.length);
  });
});

describe('compaction of definitions (what the validator reads of the R4 resources)', () => {
  const full = JSON.parse(readFileSync('profiles/hl7.fhir.uv.ips-2.0.0/package/StructureDefinition-Composition-uv-ips.json', 'utf8')) as StructureDefinition;
  const compact = compactStructureDefinition(full);

  it('keeps identity, derivation and each element\'s rules, and drops the rest', () => {
    expect(Object.keys(compact).sort()).toEqual(['abstract', 'baseDefinition', 'derivation', 'kind', 'name', 'resourceType', 'snapshot', 'type', 'url']);
    expect(compact.snapshot!.element.map((e) => e.id)).toEqual(full.snapshot!.element.map((e) => e.id));
    const type = compact.snapshot!.element.find((e) => e.id === 'Composition.type')!;
    expect(type.patternCodeableConcept).toEqual(full.snapshot!.element.find((e) => e.id === 'Composition.type')!.patternCodeableConcept);
    expect(type.base).toEqual({ max: '1' });
    expect(Object.keys(type)).not.toContain('definition');
    for (const e of compact.snapshot!.element) for (const c of e.constraint ?? []) expect(Object.keys(c).every((k) => ['key', 'severity', 'human', 'expression'].includes(k))).toBe(true);
  });

  it('gives the same compact definition again from a compact one (the registry holds either)', () => {
    expect(compactStructureDefinition(compact)).toEqual(compact);
  });

  it('keeps of a CodeSystem its concept hierarchy by code, and of a ValueSet its composition, or its expansion without one', () => {
    const cs: CodeSystem = {
      resourceType: 'CodeSystem',
      url: 'urn:cs',
      version: '2',
      status: 'active',
      content: 'complete',
      concept: [{ code: 'a', display: 'A', concept: [{ code: 'a1', definition: 'under a' }] }],
    };
    expect(trimTerminology(cs)).toEqual({ resourceType: 'CodeSystem', url: 'urn:cs', version: '2', content: 'complete', concept: [{ code: 'a', concept: [{ code: 'a1' }] }] });
    const composed: ValueSet = { resourceType: 'ValueSet', url: 'urn:vs', status: 'active', compose: { include: [{ system: 'urn:cs' }] }, expansion: { timestamp: '2024-01-01', contains: [{ system: 'urn:cs', code: 'x' }] } };
    expect(trimTerminology(composed)).toEqual({ resourceType: 'ValueSet', url: 'urn:vs', compose: { include: [{ system: 'urn:cs' }] } });
    const expanded: ValueSet = { resourceType: 'ValueSet', url: 'urn:vs', status: 'active', expansion: { timestamp: '2024-01-01', contains: [{ system: 'urn:cs', code: 'x' }] } };
    expect(trimTerminology(expanded)).toMatchObject({ resourceType: 'ValueSet', url: 'urn:vs', expansion: { contains: [{ system: 'urn:cs', code: 'x' }] } });
  });
});
