import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueDisclosure, UndisclosedAccessError, type Disclosure } from '../../src/access/disclosure.js';
import type { ConsentDecision } from '../../src/consent/consent-decision.js';
import { backends } from '../support/stores.js';
import { bodyOf, buildTestNode, documentFor, send, type Json, type TestNode } from '../support/test-node.js';

/** Repositories hand out patient data only against the gate's Disclosure for that very patient. */

const permit = (patientId: string): ConsentDecision => ({ outcome: 'permit', patientId, withheldSections: [], breakGlass: false, basis: 'test' });

describe.each(backends)('repositories refuse patient data without a Disclosure, on the $name', (backend) => {
  let node: TestNode;
  let patientId: string;
  let summaryId: string;
  beforeAll(async () => {
    node = await buildTestNode(backend);
    const pushed = await send(node.server, 'POST', '/fhir/Bundle', documentFor('DISCLOSE-1', '2026-01-01T00:00:00Z'));
    summaryId = bodyOf<Json>(pushed)['id'] as string;
    patientId = (await node.store.summaries.findById(summaryId))!.patientId;
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  const owner = () => ({ summaryId, patientId });
  const forged = (): Disclosure => Object.freeze({ patientId, decision: permit(patientId), touched: () => undefined });

  it('a summary version: with the disclosure for its patient only', async () => {
    await expect(node.store.summaries.version(owner(), 1, issueDisclosure(permit(patientId)))).resolves.toMatchObject({ versionId: 1 });
    await expect(node.store.summaries.version(owner(), 1, undefined as unknown as Disclosure)).rejects.toThrow(UndisclosedAccessError);
    await expect(node.store.summaries.version(owner(), 1, forged())).rejects.toThrow(UndisclosedAccessError);
    await expect(node.store.summaries.version(owner(), 1, issueDisclosure(permit('someone-else')))).rejects.toThrow(UndisclosedAccessError);
  });

  it('a Patient: with the disclosure for that patient only', async () => {
    await expect(node.store.patients.findVisible(patientId, issueDisclosure(permit(patientId)))).resolves.toMatchObject({ _id: patientId });
    await expect(node.store.patients.findVisible(patientId, forged())).rejects.toThrow(UndisclosedAccessError);
    await expect(node.store.patients.findVisible(patientId, issueDisclosure(permit('someone-else')))).rejects.toThrow(UndisclosedAccessError);
  });

  it('a refused decision discloses nothing', () => {
    expect(() => issueDisclosure({ ...permit(patientId), outcome: 'deny' })).toThrow(UndisclosedAccessError);
  });
});
