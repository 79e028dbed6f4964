import { describe, expect, it } from '@jest/globals';
import type { RequestSpec, TokenSpec } from '../support/fuzz-arbitraries.js';
import type { BuiltRequest } from '../support/fuzz-requests.js';
import { leaksIn, wholeValue } from '../support/log-capture.js';
import { problemsOf, type RouteSets } from './fuzz-harness.js';

/**
 * The fuzzer's oracle: a campaign that finds nothing is only worth something if its checks
 * would see a violation. Each property is shown failing on a made-up answer.
 */

const HOSPITAL: TokenSpec = { kind: 'honest', label: 'hospital', token: { issuer: 'his', country: 'AT', subject: 's' } };
const routes: RouteSets = { open: new Set(['/fhir/metadata']), guarded: new Set(['GET /fhir/Patient/{id}', 'GET /fhir/Patient/$summary']) };

function request(overrides: Partial<RequestSpec> = {}, built: Partial<BuiltRequest> = {}): BuiltRequest {
  const spec: RequestSpec = {
    token: HOSPITAL,
    method: 'GET',
    template: '/fhir/Patient/{id}',
    params: { id: { ref: 'patient', index: 0 } },
    query: [],
    rawQuery: false,
    headers: [],
    body: null,
    contentType: null,
    ifMatch: null,
    socket: false,
    raw: null,
    ...overrides,
  };
  return { spec, method: spec.method, target: '/fhir/Patient/p1', headers: [], body: undefined, markers: [], bodyMarkers: [], crossBorder: false, tokenLabel: spec.token.label, ...built };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const outcome = json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'no' }] });
const fhirJson = { 'content-type': 'application/fhir+json; charset=utf-8' };

describe('the fuzz oracle', () => {
  it('accepts a 403 OperationOutcome and a 200', () => {
    expect(problemsOf(request(), { status: 403, headers: fhirJson, body: outcome }, routes)).toEqual([]);
    expect(problemsOf(request(), { status: 200, headers: fhirJson, body: json({ resourceType: 'Patient' }) }, routes)).toEqual([]);
  });

  it('refuses a 5xx, unless a cross-border read gets 502, 504, or 503 with Retry-After', () => {
    expect(problemsOf(request(), { status: 500, headers: fhirJson, body: outcome }, routes)).toContain('status 500');
    expect(problemsOf(request(), { status: 502, headers: fhirJson, body: outcome }, routes)).toContain('status 502');
    const abroad = request({ template: '/fhir/Patient/$summary' }, { crossBorder: true });
    expect(problemsOf(abroad, { status: 502, headers: fhirJson, body: outcome }, routes)).toEqual([]);
    expect(problemsOf(abroad, { status: 504, headers: fhirJson, body: outcome }, routes)).toEqual([]);
    expect(problemsOf(abroad, { status: 503, headers: fhirJson, body: outcome }, routes)).toContain('status 503');
    expect(problemsOf(abroad, { status: 503, headers: { ...fhirJson, 'retry-after': '5' }, body: outcome }, routes)).toEqual([]);
  });

  it('refuses errors that are not FHIR JSON OperationOutcomes with issues', () => {
    expect(problemsOf(request(), { status: 400, headers: {}, body: Buffer.alloc(0) }, routes).join()).toMatch(/Content-Type.*not JSON/);
    expect(problemsOf(request(), { status: 416, headers: { 'content-type': 'application/json' }, body: json({ statusCode: 416, error: 'Range Not Satisfiable' }) }, routes)).toEqual([
      'error 416 with a undefined, not an OperationOutcome',
    ]);
    expect(problemsOf(request(), { status: 400, headers: fhirJson, body: json({ resourceType: 'OperationOutcome', issue: [] }) }, routes)).toEqual(['error 400: OperationOutcome without issues']);
    expect(problemsOf(request(), { status: 400, headers: fhirJson, body: json({ resourceType: 'OperationOutcome', issue: [{ diagnostics: 'x' }] }) }, routes)).toEqual([
      'error 400: an issue without severity or code',
    ]);
  });

  it('refuses a 2xx to a forged, absent or foreign token on a guarded route, and anything but 401/403 before authentication', () => {
    const forged: TokenSpec = { kind: 'forged', label: 'forged:alg-none', token: HOSPITAL.token, forgery: { how: 'alg-none' } };
    expect(problemsOf(request({ token: forged }), { status: 200, headers: fhirJson, body: json({ resourceType: 'Patient' }) }, routes)[0]).toMatch(/^200 to a request that must not authenticate/);
    expect(problemsOf(request({ token: { kind: 'absent', label: 'absent' } }), { status: 406, headers: fhirJson, body: outcome }, routes)).toEqual(['406 before authentication (absent): should be 401 or 403']);
    expect(problemsOf(request({ token: { kind: 'absent', label: 'absent' }, template: '/fhir/metadata', params: {} }), { status: 200, headers: fhirJson, body: json({ resourceType: 'CapabilityStatement' }) }, routes)).toEqual([]);
  });

  it('refuses patient data released to break-glass with a blank reason', () => {
    const blank: TokenSpec = { kind: 'honest', label: 'clinician-break-glass', token: { issuer: 'idp', country: 'AT', subject: 's', purpose: 'ETREAT', breakGlassReason: ' \t' } };
    expect(problemsOf(request({ token: blank }), { status: 200, headers: fhirJson, body: json({ resourceType: 'Bundle', type: 'document' }) }, routes)).toEqual([
      'break-glass with a blank reason released patient data (200)',
    ]);
    const reasoned: TokenSpec = { ...blank, token: { ...blank.token, breakGlassReason: 'stroke' } };
    expect(problemsOf(request({ token: reasoned }), { status: 200, headers: fhirJson, body: json({ resourceType: 'Bundle', type: 'document' }) }, routes)).toEqual([]);
  });

  it('sees tokens, markers and seed values in log lines, and not numbers that merely contain an identifier', () => {
    const needles = { substrings: ['eyJ'], patterns: [/zqmk[0-9a-f]{8}/i, wholeValue('1238140358'), wholeValue('Inês'), wholeValue('Gruber')] };
    expect(leaksIn(['{"msg":"Bearer eyJhbGciOi"}', '{"q":"ZQMK0000abcd"}', '{"id":"x1238140358"}', '{"name":"gruber"}', '{"name":"INÊS"}'], needles).map((l) => l.needle)).toEqual([
      'eyJ',
      'ZQMK0000abcd',
      '1238140358',
      'gruber',
      'INÊS',
    ]);
    expect(leaksIn(['{"time":17123814035812}', '{"msg":"request lines"}', '{"msg":"Grubers"}'], needles)).toEqual([]);
  });
});
