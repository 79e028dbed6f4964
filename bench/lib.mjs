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
