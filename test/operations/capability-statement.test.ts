import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CapabilityStatement, OperationDefinition } from 'fhir/r4.js';
import type { CheckpointWitness } from '../../src/audit/checkpoint-witness.js';
import { auditCheckpointOperation, auditHeadsOperation, auditWitnessRoutes } from '../../src/routes/audit-witness.js';
import { capabilityStatement, claimOf, OPERATION_DEFINITIONS, queryParametersOf } from '../../src/routes/metadata.js';
import { memoryBackend } from '../support/stores.js';
import { bodyOf, buildTestNode, sharedValidator, type TestNode } from '../support/test-node.js';

/**
 * The CapabilityStatement says exactly what is routed: each claim is derived again here from the
 * server's route table (hapi's, after registration) and compared both ways.
 */

let node: TestNode;
let statement: CapabilityStatement;

beforeAll(async () => {
  node = await buildTestNode(memoryBackend);
  statement = bodyOf<CapabilityStatement>(await node.server.inject({ url: '/fhir/metadata', headers: { authorization: 'none' } }));
});
afterAll(() => node.cleanup());

/** Every FHIR claim of the route table, as `Type interaction`, `Type $op (level)` or `$op (level)`. */
function routedClaims(): { claims: string[]; searchParams: Record<string, string[]> } {
  const claims = new Set<string>();
  const searchParams: Record<string, string[]> = {};
  for (const route of node.server.table()) {
    if (route.method === '*') continue;
    const claim = claimOf(route.method, route.path);
    if (!claim || claim.kind === 'capabilities') continue;
    if (claim.kind === 'operation') claims.add(`${claim.resourceType ?? ''} $${claim.code} (${claim.level})`.trim());
    else {
      claims.add(`${claim.resourceType} ${claim.interaction}`);
      if (claim.interaction === 'search-type') searchParams[claim.resourceType] = queryParametersOf({ options: { validate: { query: route.settings.validate?.query as never } } }).sort();
    }
  }
  return { claims: [...claims].sort(), searchParams };
}

function declaredClaims(): { claims: string[]; searchParams: Record<string, string[]> } {
  const claims: string[] = [];
  const searchParams: Record<string, string[]> = {};
  const rest = statement.rest![0]!;
  for (const r of rest.resource ?? []) {
    for (const i of r.interaction ?? []) claims.push(`${r.type} ${i.code}`);
    for (const o of r.operation ?? []) {
      const definition = OPERATION_DEFINITIONS.find((d) => d.url === o.definition)!;
      claims.push(`${r.type} $${o.name} (${definition.instance && !definition.type ? 'instance' : 'type'})`);
      if (definition.type && definition.instance) claims.push(`${r.type} $${o.name} (instance)`);
    }
    if (r.searchParam) searchParams[r.type] = r.searchParam.map((p) => p.name).sort();
  }
  for (const o of rest.operation ?? []) {
    const definition = OPERATION_DEFINITIONS.find((d) => d.url === o.definition)!;
    claims.push(`$${o.name} (${definition.system ? 'system' : 'type'})`);
  }
  return { claims: [...new Set(claims)].sort(), searchParams };
}

describe('the CapabilityStatement', () => {
  it('declares exactly the interactions and operations routed, at the level they are routed', () => {
    expect(declaredClaims().claims).toEqual(routedClaims().claims);
    // What the issue names, explicitly.
    const claims = declaredClaims().claims;
    expect(claims).toEqual(expect.arrayContaining(['$validate (type)', 'Patient $summary (type)', 'Patient $summary (instance)', 'Consent vread', 'Consent history-instance', 'AuditEvent search-type']));
  });

  it('declares exactly the search parameters each search route accepts, _count, _offset and _summary included', () => {
    const { searchParams } = routedClaims();
    expect(declaredClaims().searchParams).toEqual(searchParams);
    for (const type of ['Patient', 'Consent', 'AuditEvent']) expect(searchParams[type]).toEqual(expect.arrayContaining(['_count', '_offset', '_summary']));
  });

  it('has an OperationDefinition for each operation, served, valid, its level matching the routes', async () => {
    // A node with peers also routes the witness operations (system level).
    const withPeers = capabilityStatement(node.config, auditWitnessRoutes({} as CheckpointWitness), new Date());
    expect(withPeers.rest![0]!.operation).toEqual([
      { name: 'audit-checkpoint', definition: auditCheckpointOperation.url },
      { name: 'audit-heads', definition: auditHeadsOperation.url },
    ]);
    expect([auditCheckpointOperation, auditHeadsOperation].map((d) => [d.system, d.type, d.instance])).toEqual([
      [true, false, false],
      [true, false, false],
    ]);
    const rest = statement.rest![0]!;
    const declared = [...(rest.operation ?? []), ...(rest.resource ?? []).flatMap((r) => r.operation ?? []), ...withPeers.rest![0]!.operation!];
    for (const operation of declared) {
      const definition = OPERATION_DEFINITIONS.find((d) => d.url === operation.definition);
      expect([operation.name, definition?.code]).toEqual([operation.name, operation.name]);
      const served = await node.server.inject({ url: `/fhir/OperationDefinition/${definition!.id}`, headers: { authorization: 'none' } });
      expect(served.statusCode).toBe(200);
      const body = bodyOf<OperationDefinition>(served);
      expect(body.url).toBe(operation.definition);
      const errors = (await sharedValidator().validate(body as never)).filter((i) => i.severity === 'error');
      expect([body.id, errors]).toEqual([body.id, []]);
    }
    expect(declared.map((o) => o.name)).toEqual(expect.arrayContaining(['validate', 'summary', 'audit-checkpoint', 'audit-heads']));
    expect((await node.server.inject({ url: '/fhir/OperationDefinition/nothing', headers: { authorization: 'none' } })).statusCode).toBe(404);
  });

  it('claims the security that is enforced: bearer tokens with SMART v2 scopes, no SMART authorisation server', async () => {
    const security = statement.rest![0]!.security!;
    expect(security.service?.[0]?.coding?.[0]?.code).toBe('OAuth');
    expect(JSON.stringify(statement)).not.toContain('SMART-on-FHIR');
    // Markdown is read as HTML: no angle brackets.
    expect(security.description).not.toMatch(/[<>]/);
    expect((await node.server.inject({ url: '/fhir/.well-known/smart-configuration', headers: { authorization: 'none' } })).statusCode).not.toBe(200);
    expect((await node.server.inject({ url: '/fhir/Patient?family=x', headers: { authorization: 'none' } })).statusCode).toBe(401);
  });

  it('is valid R4, checked by the node’s own validator', async () => {
    const issues = await sharedValidator().validate(statement as never);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  });
});
