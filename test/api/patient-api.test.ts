import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, patientOf, send, type Json, type TestNode } from '../support/test-node.js';

describe.each(backends)('the Patient API on the $name', (backend) => {
  let node: TestNode;

  /** A document for a patient with the given demographics. */
  function documentWith(p: { id: string; family: string; given: string; birthDate: string; gender: string }, timestamp: string, title = 'Summary'): Json {
    const bundle = documentFor(p.id, timestamp);
    bundle['entry'][0].resource.title = title;
    Object.assign(patientOf(bundle), { name: [{ family: p.family, given: [p.given] }], birthDate: p.birthDate, gender: p.gender });
    return bundle;
  }

  const MULLER = { id: 'N1', family: 'Müller', given: 'Jürgen', birthDate: '1970-04-01', gender: 'male' };
  const MULLEROVA = { id: 'N2', family: 'Mullerová', given: 'Jana', birthDate: '1985-11-30', gender: 'female' };
  const SOUSA = { id: 'N3', family: 'Sousa', given: 'Inês', birthDate: '1970-09-15', gender: 'female' };

  beforeAll(async () => {
    node = await buildTestNode(backend);
    for (const p of [MULLER, MULLEROVA, SOUSA]) {
      const response = await send(node.server, 'POST', '/fhir/Bundle', documentWith(p, '2024-01-01T00:00:00Z'));
      expect(response.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  async function search(query: string): Promise<Json> {
    const response = await node.server.inject(`/fhir/Patient?${query}`);
    expect(response.statusCode).toBe(200);
    return bodyOf<Json>(response);
  }
  const nationalIds = (bundle: Json): string[] =>
    (bundle['entry'] as Json[]).map((e) => e['resource']['identifier'][0].value as string).sort();

  describe('GET /fhir/Patient', () => {
    it('finds by identifier in every token form', async () => {
      expect(nationalIds(await search('identifier=urn:test:national|N1'))).toEqual(['N1']);
      expect(nationalIds(await search('identifier=N2'))).toEqual(['N2']);
      expect(nationalIds(await search('identifier=|N3'))).toEqual(['N3']);
      expect(nationalIds(await search('identifier=urn:test:national|'))).toEqual(['N1', 'N2', 'N3']);
      expect((await search('identifier=urn:other|N1'))['total']).toBe(0);
    });

    it('matches names by prefix, ignoring case and accents', async () => {
      expect(nationalIds(await search('family=muller'))).toEqual(['N1', 'N2']);
      expect(nationalIds(await search('family=MÜLLERO'))).toEqual(['N2']);
      expect(nationalIds(await search('given=ines'))).toEqual(['N3']);
    });

    it('filters on birthdate with prefixes and on gender, combining criteria', async () => {
      expect(nationalIds(await search('birthdate=1970'))).toEqual(['N1', 'N3']);
      expect(nationalIds(await search('birthdate=ge1980-01-01'))).toEqual(['N2']);
      expect(nationalIds(await search('birthdate=1970&gender=female'))).toEqual(['N3']);
    });

    it('returns a searchset with total, self and next links, and pages with _count', async () => {
      const page = await search('identifier=urn:test:national|&_count=2');
      expect(page).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 3 });
      expect(page['entry']).toHaveLength(2);
      expect(page['entry'][0].search).toEqual({ mode: 'match' });
      expect(page['entry'][0].fullUrl).toBe(`http://at.example/fhir/Patient/${page['entry'][0].resource.id}`);
      const next = (page['link'] as Json[]).find((l) => l['relation'] === 'next')!['url'] as string;
      const second = await search(next.slice(next.indexOf('?') + 1));
      expect(second['entry']).toHaveLength(1);
      expect((second['link'] as Json[]).some((l) => l['relation'] === 'next')).toBe(false);
    });

    it.each([
      ['identifier[$ne]=x', 'identifier[$ne]'],
      ['__proto__[x]=1', '__proto__[x]'],
      ['family=a&family=b', 'family'],
      ['birthdate=yesterday', 'birthdate'],
      ['gender=robot', 'gender'],
      ['_count=1000', '_count'],
      ['identifier=a|b|c', 'identifier'],
    ])('refuses %s with 400 naming the parameter', async (query, parameter) => {
      const response = await node.server.inject(`/fhir/Patient?${query}`);
      expect(response.statusCode).toBe(400);
      expect(bodyOf<Json>(response)['issue'][0].expression).toEqual([parameter]);
    });

    it('refuses to list every patient without a criterion', async () => {
      const response = await node.server.inject('/fhir/Patient');
      expect(response.statusCode).toBe(400);
    });

    it('treats regular-expression characters in names as text', async () => {
      expect((await search('family=.*'))['total']).toBe(0);
    });
  });

  describe('GET /fhir/Patient/{id}', () => {
    it('returns the Patient of the current summary under the server id, 404 for unknown ids', async () => {
      const found = await search('identifier=urn:test:national|N1');
      const id = found['entry'][0].resource.id as string;
      const read = await node.server.inject(`/fhir/Patient/${id}`);
      expect(read.statusCode).toBe(200);
      expect(bodyOf<Json>(read)).toMatchObject({ resourceType: 'Patient', id, name: [{ family: 'Müller' }] });
      expect((await node.server.inject('/fhir/Patient/unknown')).statusCode).toBe(404);
    });
  });

  describe('$summary', () => {
    it('returns the newest document as current; an older one pushed later does not replace it', async () => {
      const p = { id: 'S1', family: 'Silva', given: 'Ana', birthDate: '1960-01-01', gender: 'female' };
      await send(node.server, 'POST', '/fhir/Bundle', documentWith(p, '2024-05-01T00:00:00Z', 'May'));
      const older = await send(node.server, 'POST', '/fhir/Bundle', documentWith(p, '2023-05-01T00:00:00Z', 'Last year'));
      const byIdentifier = await node.server.inject('/fhir/Patient/$summary?identifier=urn:test:national|S1');
      expect(byIdentifier.statusCode).toBe(200);
      expect(bodyOf<Json>(byIdentifier)['entry'][0].resource.title).toBe('May');

      await send(node.server, 'POST', '/fhir/Bundle', documentWith({ ...p, family: 'Silva Costa' }, '2025-05-01T00:00:00Z', 'Next year'));
      const patientId = (await search('identifier=urn:test:national|S1'))['entry'][0].resource.id as string;
      const byId = await node.server.inject(`/fhir/Patient/${patientId}/$summary`);
      expect(bodyOf<Json>(byId)['entry'][0].resource.title).toBe('Next year');
      expect(byId.headers['etag']).toBe('W/"1"');
      // Demographics follow the newest document; older documents stay readable.
      expect(bodyOf<Json>(await node.server.inject(`/fhir/Patient/${patientId}`))['name'][0].family).toBe('Silva Costa');
      expect((await node.server.inject(`/fhir/Bundle/${bodyOf<Json>(older)['id']}`)).statusCode).toBe(200);
    });

    it('accepts the IPS profile and refuses any other', async () => {
      const ok = await node.server.inject(
        '/fhir/Patient/$summary?identifier=urn:test:national|N1&profile=http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips',
      );
      expect(ok.statusCode).toBe(200);
      const refused = await node.server.inject('/fhir/Patient/$summary?identifier=urn:test:national|N1&profile=http://example.org/Other');
      expect(refused.statusCode).toBe(400);
      expect(bodyOf<Json>(refused)['issue'][0].expression).toEqual(['profile']);
    });

    it('answers 404 for an unknown patient, 400 for an identifier without system', async () => {
      expect((await node.server.inject('/fhir/Patient/$summary?identifier=urn:test:national|nobody')).statusCode).toBe(404);
      expect((await node.server.inject('/fhir/Patient/unknown/$summary')).statusCode).toBe(404);
      const noSystem = await node.server.inject('/fhir/Patient/$summary?identifier=N1');
      expect(noSystem.statusCode).toBe(400);
      expect((await node.server.inject('/fhir/Patient/$summary')).statusCode).toBe(400);
    });
  });
});
