import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  accessLogReach,
  accessRulesTable,
  invokesBreakGlass,
  isDataSource,
  kindOf,
  mayFetchAbroad,
  mayManageConsents,
  mayReadConsentsWithoutData,
  maySearchByDemographics,
  purposeMayRead,
  receivesSignedSummaries,
  receivesTranslations,
  roleMayRead,
  type RequesterKind,
} from '../../src/access/access-policy.js';
import type { IssuerKind, PurposeOfUse, Requester } from '../../src/auth/requester.js';

function requester(issuerKind: IssuerKind, context: Requester['context'], extra: Partial<Requester> = {}): Requester {
  return { issuer: `https://${issuerKind}.example`, issuerKind, subject: 's', clientId: 'c', tokenId: 't', country: 'AT', scopes: [], context, ...extra };
}

const EVERYONE: Record<RequesterKind, Requester> = {
  'hospital-system': requester('hospital-system', 'system'),
  operator: requester('operator', 'system'),
  patient: requester('identity-provider', 'patient', { personId: 'urn:x|1' }),
  clinician: requester('identity-provider', 'user', { role: '221', purpose: 'TREAT' }),
  'peer-node-for-clinician': requester('peer-node', 'user', { role: '221', purpose: 'TREAT', country: 'PT' }),
  'peer-node': requester('peer-node', 'system', { country: 'PT' }),
  other: requester('identity-provider', 'system'),
};

/** Which kinds a predicate lets through. */
function whoMay(predicate: (r: Requester) => boolean): RequesterKind[] {
  return (Object.keys(EVERYONE) as RequesterKind[]).filter((k) => predicate(EVERYONE[k]));
}

describe('the access policy', () => {
  it('tells requesters apart by issuer kind and token context', () => {
    for (const [kind, r] of Object.entries(EVERYONE)) expect(kindOf(r)).toBe(kind);
  });

  it('says who may do what, rule by rule', () => {
    expect(whoMay(isDataSource)).toEqual(['hospital-system']);
    expect(whoMay(maySearchByDemographics)).toEqual(['hospital-system']);
    expect(whoMay(mayManageConsents)).toEqual(['hospital-system', 'patient']);
    expect(whoMay(mayReadConsentsWithoutData)).toEqual(['operator']);
    expect(whoMay((r) => accessLogReach(r) === 'any')).toEqual(['operator']);
    expect(whoMay((r) => accessLogReach(r) === 'own')).toEqual(['patient']);
    expect(whoMay(mayFetchAbroad)).toEqual(['clinician']);
    expect(whoMay(receivesSignedSummaries)).toEqual(['peer-node-for-clinician', 'peer-node']);
    expect(whoMay(receivesTranslations)).toEqual(['hospital-system', 'operator', 'patient', 'clinician', 'other']);
  });

  it('reads roles hierarchically and purposes by code', () => {
    const doctor = (role: string, purpose: PurposeOfUse) => requester('identity-provider', 'user', { role, purpose });
    expect(roleMayRead(['221'], doctor('2211', 'TREAT'))).toBe(true);
    expect(roleMayRead(['221'], doctor('2261', 'TREAT'))).toBe(false);
    expect(roleMayRead(['221'], requester('identity-provider', 'user'))).toBe(false);
    expect((['TREAT', 'ETREAT', 'BTG', 'PATRQT', 'HOPERAT'] as const).filter((p) => purposeMayRead(doctor('221', p)))).toEqual(['TREAT', 'ETREAT', 'BTG']);
    expect((['TREAT', 'ETREAT', 'BTG'] as const).filter((p) => invokesBreakGlass(doctor('221', p)))).toEqual(['ETREAT', 'BTG']);
  });

  it('is the table docs/security.md shows', () => {
    const docs = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    expect(docs).toContain(accessRulesTable());
  });
});
