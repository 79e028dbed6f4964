#!/usr/bin/env node
// Writes the DEMO trust set-up of seed/trust/: one key pair per demo issuer, the trust list that
// names their public keys, and the private keys `pontis token` signs with. Demo keys are public
// by being in this repository: the node refuses them when NODE_ENV=production.
// Run once; re-running rotates every demo key (tokens minted before stop verifying).
import { exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../seed/trust/', import.meta.url));
mkdirSync(`${dir}/demo-keys`, { recursive: true });

const countries = ['AT', 'PT', 'FR'];
const kinds = {
  'identity-provider': { host: 'idp', may: ['user/Patient.rs', 'user/Bundle.r', 'patient/Patient.rs', 'patient/Bundle.r', 'patient/Consent.crus', 'patient/AuditEvent.rs'] },
  'hospital-system': { host: 'his', may: ['system/Bundle.crus', 'system/Patient.rs', 'system/Consent.crus'] },
  'peer-node': { host: 'ncp', may: ['user/Patient.rs', 'user/Bundle.r'] },
  operator: { host: 'ops', may: ['system/AuditEvent.rs', 'system/Consent.rs'] },
};

const issuers = [];
for (const country of countries) {
  for (const [kind, { host, may }] of Object.entries(kinds)) {
    const alg = kind === 'peer-node' ? 'EdDSA' : 'ES256';
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const pub = await exportJWK(publicKey);
    const kid = (await calculateJwkThumbprint(pub)).slice(0, 16);
    const issuer = `https://${host}.${country.toLowerCase()}.demo.pontis.example`;
    issuers.push({ issuer, country, kind, demo: true, may, keys: [{ ...pub, kid, alg, use: 'sig' }] });
    const priv = { ...(await exportJWK(privateKey)), kid, alg };
    writeFileSync(
      `${dir}/demo-keys/${host}-${country.toLowerCase()}.json`,
      JSON.stringify({ DEMO_KEY_DO_NOT_USE_IN_PRODUCTION: true, issuer, country, kind, key: priv }, null, 2) + '\n',
    );
  }
}
writeFileSync(
  `${dir}/trust-list.json`,
  JSON.stringify(
    { description: 'DEMO trust list of the Pontis demo set-up (AT, PT and FR). Every key here is public: never use it in production.', issuers },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${issuers.length} demo issuers to ${dir}`);
