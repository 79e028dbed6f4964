// What the benchmark scripts share: child processes, load runs with percentiles, pools of
// single-use tokens, and the machine line of the reports.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** Seconds per measurement (`BENCH_SECONDS`). */
export const DURATION = Number(process.env.BENCH_SECONDS ?? 10);

/** Connection counts to measure at (`BENCH_CONCURRENCY`), else `fallback`. */
export function concurrency(fallback) {
  return (process.env.BENCH_CONCURRENCY ?? fallback).split(',').map(Number);
}

/** Starts `node args` with `env`; resolves to the child and the match once its output matches `readyPattern`. */
export function startProcess(args, env, readyPattern) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      output += d;
      const match = readyPattern.exec(output);
      if (match) resolve({ child, match });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited (${code}): ${output}`)));
  });
}

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One autocannon run of DURATION seconds; prints and resolves to its row. */
export async function load(name, options) {
  const latencies = [];
  const instance = autocannon({ duration: DURATION, ...options });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const row = {
    name,
    connections: options.connections,
    rps: Math.round(result.requests.total / DURATION),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
}

/**
 * Autocannon options sending a fresh token with each request (tokens are single-use), from
 * `count` tokens minted ahead by `mint`; keeps any `setupRequest` of `options`.
 */
export async function withTokens(options, count, mint) {
  const pool = [];
  for (let i = 0; i < count; i++) pool.push(await mint());
  let next = 0;
  const setup = options.requests?.[0]?.setupRequest ?? ((req) => req);
  return {
    ...options,
    requests: [
      {
        setupRequest: (req) => {
          const r = setup(req);
          return { ...r, headers: { ...r.headers, authorization: `Bearer ${pool[next++ % pool.length]}` } };
        },
      },
    ],
  };
}

/** The machine, for the reports. */
export function machine() {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/**
 * Gives the patient of a pushed document a Consent permitting sharing, through the API with the
 * hospital system's headers `his(scope)`; resolves to the patient's id.
 */
export async function permitSharing(base, pushed, his) {
  const patientRef = pushed.entry.find((e) => e.resource.resourceType === 'Patient').resource.identifier[0];
  const found = await (await fetch(`${base}/Patient?identifier=${encodeURIComponent(`${patientRef.system}|${patientRef.value}`)}`, { headers: await his('system/Patient.rs') })).json();
  const patientId = found.entry[0].resource.id;
  const consent = {
    resourceType: 'Consent', status: 'active', dateTime: '2026-01-01T00:00:00Z',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patientId}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit' },
  };
  const created = await fetch(`${base}/Consent`, { method: 'POST', headers: await his('system/Consent.c'), body: JSON.stringify(consent) });
  if (created.status !== 201) throw new Error(`consent not stored: ${created.status} ${await created.text()}`);
  return patientId;
}
