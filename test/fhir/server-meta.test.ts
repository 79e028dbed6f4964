import { describe, expect, it } from '@jest/globals';
import { serialiseWithoutServerMeta, withServerMeta, withServerMetaText } from '../../src/fhir/server-meta.js';
import { ipsExample, ipsExampleBundles } from '../support/test-node.js';

const META = { versionId: '3', lastUpdated: '2026-12-02T13:45:00.000Z' };

/** What the server stores, serialised whole: the reference the spliced text must equal. */
const whole = (resource: object, type: string, id: string, meta: { versionId?: string; lastUpdated: string } = META): string =>
  JSON.stringify(withServerMeta(resource, type, id, meta));
const spliced = (resource: object, type: string, id: string, meta: { versionId?: string; lastUpdated: string } = META): string =>
  withServerMetaText(serialiseWithoutServerMeta(resource), type, id, meta);

describe('the stored text of a resource with the server meta', () => {
  it('is byte for byte the whole resource serialised with the server meta, for the IPS examples', () => {
    const files = ipsExampleBundles();
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const document = ipsExample(file);
      expect(spliced(document, 'Bundle', 'b-1')).toBe(whole(document, 'Bundle', 'b-1'));
    }
  });

  it("puts the server's id and meta first and keeps the client's other meta after them", () => {
    const sent = { id: 'client-id', status: 'active', meta: { versionId: '99', lastUpdated: '1999-01-01T00:00:00Z', profile: ['p'], tag: [{ code: 't' }] }, resourceType: 'Consent' };
    const text = spliced(sent, 'Consent', 'c-1');
    expect(text).toBe(whole(sent, 'Consent', 'c-1'));
    expect(JSON.parse(text)).toStrictEqual({ resourceType: 'Consent', id: 'c-1', meta: { ...META, profile: ['p'], tag: [{ code: 't' }] }, status: 'active' });
    expect(text.startsWith('{"resourceType":"Consent","id":"c-1","meta":{"versionId":"3"')).toBe(true);
  });

  it('writes no versionId when the server gives none, and an empty resource or meta as such', () => {
    const patient = { resourceType: 'Patient', meta: 'not an object', gender: 'female' };
    expect(spliced(patient, 'Patient', 'p-1', { lastUpdated: META.lastUpdated })).toBe(whole(patient, 'Patient', 'p-1', { lastUpdated: META.lastUpdated }));
    expect(spliced({}, 'Bundle', 'e')).toBe(whole({}, 'Bundle', 'e'));
    expect(JSON.parse(spliced({}, 'Bundle', 'e'))).toStrictEqual({ resourceType: 'Bundle', id: 'e', meta: META });
  });

  it('escapes what the id and type hold and keeps every character of the content', () => {
    const sent = { resourceType: 'Bundle', language: 'de', text: { div: '<div>Übersicht "a\\b" \u2028 😀</div>' } };
    const text = spliced(sent, 'Bundle', 'x"y');
    expect(text).toBe(whole(sent, 'Bundle', 'x"y'));
    expect((JSON.parse(text) as { id: string }).id).toBe('x"y');
  });

  it('is the same JSON value when a member is named like an array index (no FHIR element is)', () => {
    const sent = { resourceType: 'Bundle', 7: 'seven', type: 'document' };
    expect(JSON.parse(spliced(sent, 'Bundle', 'i'))).toStrictEqual(JSON.parse(whole(sent, 'Bundle', 'i')));
  });
});
