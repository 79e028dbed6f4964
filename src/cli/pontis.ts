import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type NodeConfig } from '../config.js';
import { openStore } from '../repositories/store.js';
import { loadSeed } from '../seed/seed-loader.js';
import { createServices } from '../server.js';
import { mintDemoToken } from '../auth/demo-tokens.js';
import { verifyAgainstWitnesses, verifyAuditTrail } from '../audit/audit-verification.js';
import { WitnessClient } from '../audit/witness-client.js';
import { collectWitnessReports } from '../audit/witness-reports.js';
import { TrustList } from '../auth/trust-list.js';
import { NodeIdentity } from '../exchange/node-identity.js';
import { PeerDirectory } from '../exchange/peer-directory.js';
import { createValidator } from '../validation/index.js';

const USAGE = `usage: pontis <command> [options]

commands:
  seed [--country CC]   load the demo documents and Consents of seed/<CC>/ (default:
                        PONTIS_COUNTRY) into the configured store (MONGODB_URI, or the embedded
                        store, which only makes sense as a check of the seed data)
  token [options]       print a token signed by a DEMO issuer of seed/trust (never for production)
      --aud URL         base URL of the node the token is for (default: PONTIS_BASE_URL, else
                        http://127.0.0.1:$PORT/fhir); its issuer is the demo identity provider
                        of that node's country (--country, else PONTIS_COUNTRY, else by port:
                        8081 AT, 8082 PT)
      --scope S         SMART v2 scopes (default: user/Patient.rs user/Bundle.r); system/
                        scopes are issued by the country's demo hospital system
      --role CODE       ISCO-08 role (default 221, doctors)
      --purpose CODE    TREAT (default), ETREAT or BTG (break-glass: add --reason)
      --reason TEXT     why break-glass is invoked
      --sub ID          the subject (default: a demo user)
      --patient SYS|VAL a patient's own token, for their Consents and access log
      --issuer NAME     idp, his, ncp (a peer node of --country) or ops (an operator)
      --home CC         country the requester acts from (peer-node tokens)
      --ttl SECONDS     lifetime (default 300, at most 3600)
  demo                  start the AT node (8081) and the PT node (8082) on the embedded store with
                        the seed data and the demo trust set-up, each with its portal (AT 8091,
                        PT 8092) and demo identity provider; stays up until interrupted
  audit verify          check every audit chain in the configured store, then against the heads
                        the peers of the directory witnessed (PONTIS_PEER_DIRECTORY,
                        PONTIS_PEER_URLS, PONTIS_NODE_KEY): exits 0 intact, 1 at the first
                        finding (a record altered, removed or reordered; a chain rewritten or cut
                        back behind a witnessed head; an equivocation), 3 when the chains are
                        linked but no witness could be reached (not anchored)
  help                  this text
`;

/** Country of a demo node, from the port of its base URL (docker-compose: AT 8081, PT 8082). */
function countryOfDemoNode(aud: string): string | undefined {
  const port = /:(\d+)\//.exec(aud)?.[1];
  return port === '8081' ? 'AT' : port === '8082' ? 'PT' : undefined;
}

/** `pontis token`: prints one demo token, nothing else, so scripts can use it. */
async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      aud: { type: 'string' },
      country: { type: 'string' },
      scope: { type: 'string' },
      role: { type: 'string' },
      purpose: { type: 'string' },
      reason: { type: 'string' },
      sub: { type: 'string' },
      patient: { type: 'string' },
      issuer: { type: 'string' },
      home: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const aud = values.aud ?? process.env['PONTIS_BASE_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? '8080'}/fhir`;
  const issuer = values.issuer;
  if (issuer !== undefined && !['idp', 'his', 'ncp', 'ops'].includes(issuer)) throw new Error('--issuer must be idp, his, ncp or ops');
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= 3600)) throw new Error('--ttl must be 1 to 3600 seconds');
  const jwt = await mintDemoToken({
    audience: aud.replace(/\/+$/, ''),
    country: values.country ?? process.env['PONTIS_COUNTRY'] ?? countryOfDemoNode(aud) ?? 'AT',
    ...(issuer ? { issuer: issuer as 'idp' | 'his' | 'ncp' | 'ops' } : {}),
    ...(values.scope ? { scope: values.scope } : {}),
    ...(values.role ? { role: values.role } : {}),
    ...(values.purpose ? { purpose: values.purpose } : {}),
    ...(values.reason ? { breakGlassReason: values.reason } : {}),
    ...(values.sub ? { subject: values.sub } : {}),
    ...(values.patient ? { patient: values.patient } : {}),
    ...(values.home ? { homeCountry: values.home } : {}),
    ...(ttl ? { ttlSeconds: ttl } : {}),
  });
  process.stdout.write(`${jwt}\n`);
  return 0;
}

/**
 * `pontis demo`: two nodes, AT and PT, as child processes on the embedded store, each with its
 * seed documents and Consents, peers of each other; prints where they are and a token command.
 */
async function demo(): Promise<number> {
  const nodes = [
    { country: 'AT', port: 8081 },
    { country: 'PT', port: 8082 },
  ];
  const url = (port: number) => `http://127.0.0.1:${port}/fhir`;
  const peerUrls = nodes.map((n) => `${n.country}=${url(n.port)}`).join(',');
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const portals: string[] = [];
  const children = nodes.map(({ country, port }) =>
    spawn(process.execPath, [main], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PONTIS_COUNTRY: country, PONTIS_BASE_URL: url(port), PONTIS_PEER_URLS: peerUrls, PONTIS_SEED: '1', PONTIS_BREAK_GLASS: 'allowed', PONTIS_PORTAL_PORT: String(port + 10), LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', MONGODB_URI: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const stopAll = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  await Promise.all(
    children.map(
      (child, i) =>
        new Promise<void>((resolve, reject) => {
          let seen = '';
          child.stdout!.on('data', (d: Buffer) => {
            seen += d.toString();
            if (/listening on/.test(seen)) {
              const portal = /Pontis \w+ portal: .*/.exec(seen)?.[0];
              if (portal) portals.push(portal);
              resolve();
            }
          });
          child.once('exit', (code) => reject(new Error(`the ${nodes[i]!.country} node stopped (${code})`)));
        }),
    ),
  ).catch((error: unknown) => {
    stopAll();
    throw error;
  });
  process.stdout.write(
    [
      `AT ${url(8081)}`,
      `PT ${url(8082)}`,
      '',
      'A doctor in Portugal asks the PT node for the summary of Anna Gruber, an Austrian patient:',
      `  curl -s -H "Authorization: Bearer $(npx pontis token --aud ${url(8082)})" '${url(8082)}/Patient/$summary?identifier=urn:oid:1.2.40.0.10.1.4.3.1|1238140358'`,
      `Portals (sign in as doctor, pharmacist or nurse, or a seed patient such as anna.gruber; password demo):`,
      ...portals.map((p) => `  ${p}`),
      'Ctrl-C stops both nodes.',
      '',
    ].join('\n'),
  );
  const codes = await Promise.all(children.map((child) => new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 0)))));
  return codes.every((c) => c === 0 || c === null) ? 0 : 1;
}

/** Exit codes of `pontis audit verify` (2 is a refused configuration, as everywhere). */
export const AUDIT_EXIT = { intact: 0, broken: 1, notAnchored: 3 } as const;

/** The trust list, peer directory and node key, as the node itself would load them. */
async function anchoringConfiguration(config: NodeConfig): Promise<{ trust: TrustList; directory: PeerDirectory; identity: NodeIdentity }> {
  let trust: TrustList;
  try {
    trust = await TrustList.load(config.trustListPath);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  PONTIS_TRUST_LIST: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const directory = PeerDirectory.load(config.peerDirectoryPath, config.country, trust, config.peerUrls);
    const identity = await NodeIdentity.load(config.nodeKeyPath);
    if (identity.issuer !== directory.self.issuer) throw new Error(`the node key is ${identity.issuer}'s, but the directory names ${directory.self.issuer} for ${config.country}`);
    return { trust, directory, identity };
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  PONTIS_PEER_DIRECTORY / PONTIS_NODE_KEY: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * `pontis audit verify`: walks every audit chain of the configured store, then compares the
 * chains with the heads the peers witnessed (and this node's stored checkpoints). Exits 0 when
 * intact and anchored, 1 at the first finding, 3 when the chains are linked but no peer could be
 * asked (a rewrite of the database would then go unnoticed).
 */
async function audit(args: string[]): Promise<number> {
  if (args[0] !== 'verify' || args.length > 1) throw new Error('usage: pontis audit verify');
  const config = loadConfig();
  const { trust, directory, identity } = await anchoringConfiguration(config);
  const store = await openStore(config);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const result = await verifyAuditTrail(store.audit);
    if (result.broken) {
      const { chain, seq, problem } = result.broken;
      out(`audit trail BROKEN: chain ${chain}, record ${seq}: ${problem} (${result.records} records verified before it)`);
      return AUDIT_EXIT.broken;
    }
    const client = new WitnessClient(identity, { timeoutMs: config.peerTimeoutMs, maxBytes: config.maxPayloadBytes });
    const reports = await collectWitnessReports(client, directory, trust, identity, store.checkpoints);
    for (const { witness, heads } of reports.peers) out(`witness ${witness}: ${heads.length} heads of ${new Set(heads.map((h) => h.chain)).size} chains`);
    for (const { witness, reason } of reports.unreachable) out(`witness ${witness}: NOT REACHED: ${reason}`);
    if (reports.forgedStored) {
      const { chain, seq, reason } = reports.forgedStored;
      out(`audit trail BROKEN: chain ${chain}, record ${seq}: its stored checkpoint does not verify (${reason}): forged or altered in the database`);
      return AUDIT_EXIT.broken;
    }
    const anchored = await verifyAgainstWitnesses(store.audit, [...reports.peers, reports.stored]);
    if (anchored.broken) {
      const { chain, seq, problem } = anchored.broken;
      out(`audit trail BROKEN: chain ${chain}, record ${seq}: ${problem}`);
      return AUDIT_EXIT.broken;
    }
    const linked = `${result.records} records in ${result.chains} chains (${await store.database.describe()})`;
    if (reports.peers.length === 0) {
      out(`audit trail NOT ANCHORED: ${linked} are linked, but no witness could be reached, so a rewrite of the database would go unnoticed; ${reports.stored.heads.length} stored checkpoints match`);
      return AUDIT_EXIT.notAnchored;
    }
    out(`audit trail intact: ${linked}; ${anchored.positions} witnessed heads match (${reports.peers.length} of ${reports.peers.length + reports.unreachable.length} witnesses answered)`);
    return AUDIT_EXIT.intact;
  } finally {
    await store.close();
  }
}

/** `pontis seed`: pushes the demo documents through the same rules as the API. */
async function seed(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { country: { type: 'string' } } });
  const config = loadConfig({ ...process.env, ...(values.country ? { PONTIS_COUNTRY: values.country } : {}) });
  const store = await openStore(config);
  try {
    const services = createServices({ config, store, validator: createValidator() });
    const report = await loadSeed({ ...services, patients: store.patients }, config.country);
    process.stdout.write(
      `seeded ${await store.database.describe()} from ${report.directory}: ${report.created} new, ${report.unchanged} already stored, ${report.consents} consents\n`,
    );
    return report.created + report.unchanged > 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** Entry point of the `pontis` command. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'seed':
        return await seed(rest);
      case 'token':
        return await token(rest);
      case 'audit':
        return await audit(rest);
      case 'demo':
        return await demo();
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`pontis: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pontis: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`pontis: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
