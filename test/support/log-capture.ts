import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A log line that contained something a client sent, and what it contained. */
export interface LeakedLine {
  /** Which needle matched: `eyJ` (a JWT), a seed value, or a fuzz marker. */
  needle: string;
  /** The line, cut to 400 characters (it holds only what the node already wrote). */
  line: string;
}

/** What a client may send that must never reach a log line. */
export interface LogNeedles {
  /** Plain substrings, matched as they are: the JWT prefix `eyJ`. */
  substrings: readonly string[];
  /** Patterns (not global): the fuzzer's markers, seed identifiers, names and birth dates. */
  patterns: readonly RegExp[];
}

/**
 * Every line a node logs, kept as it is written so that a fuzzer can scan the lines of each batch
 * of requests and then forget them (a campaign writes hundreds of thousands of lines).
 */
export interface LogCapture {
  /** A pino logger at level `trace` (stricter than the node's `info`) writing here. */
  logger: Logger;
  /** Lines written so far in total. */
  count(): number;
  /** Lines written since the last call of `take`, removed from the capture. */
  take(): string[];
}

/** A pino logger at level `trace` whose lines are kept in memory until taken. */
export function captureLogs(base: Record<string, unknown> = {}): LogCapture {
  let pending: string[] = [];
  let partial = '';
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (line.length === 0) continue;
        pending.push(line);
        total++;
      }
      done();
    },
  });
  return {
    logger: pino({ level: 'trace', base }, sink),
    count: () => total,
    take() {
      const taken = pending;
      pending = [];
      return taken;
    },
  };
}

/** A pattern finding `value` as a whole word (names) or a whole number (identifiers), in any case. */
export function wholeValue(value: string): RegExp {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return /^\d+$/.test(value) ? new RegExp(`(?<!\\d)${escaped}(?!\\d)`) : new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu');
}

/** The lines holding any needle; a line is reported once, with the first needle found. */
export function leaksIn(lines: readonly string[], needles: LogNeedles): LeakedLine[] {
  const leaks: LeakedLine[] = [];
  for (const line of lines) {
    const substring = needles.substrings.find((s) => line.includes(s));
    const pattern = substring === undefined ? needles.patterns.map((p) => p.exec(line)?.[0]).find((m) => m !== undefined) : undefined;
    const needle = substring ?? pattern;
    if (needle !== undefined) leaks.push({ needle, line: line.slice(0, 400) });
  }
  return leaks;
}
