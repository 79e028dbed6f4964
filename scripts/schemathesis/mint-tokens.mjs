// Prints N demo tokens (one per line) of the demo hospital system of AT for the node at AUD,
// for scripts/schemathesis.sh: the node accepts each token once. Demo keys only.
import { mintDemoToken } from '../../dist/src/auth/demo-tokens.js';

const [aud, count = '1000'] = process.argv.slice(2);
if (!aud) {
  process.stderr.write('usage: node scripts/schemathesis/mint-tokens.mjs <audience> [count]\n');
  process.exit(2);
}
const scope = 'system/Bundle.crus system/Patient.rs system/Consent.crus';
const lines = [];
for (let i = 0; i < Number(count); i++) lines.push(await mintDemoToken({ audience: aud, country: 'AT', scope, ttlSeconds: 3000 }));
process.stdout.write(`${lines.join('\n')}\n`);
