import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

/** Everything a node logged, as text and as parsed lines. */
export interface CapturedLog {
  logger: Logger;
  /** Every byte written to the log so far. */
  text(): string;
  lines(): Record<string, unknown>[];
}

/** A logger configured as the node's own (`createLogger`, level info) that keeps what it writes. */
export function captureLog(): CapturedLog {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ ...loadConfig({ LOG_LEVEL: 'info' }), logLevel: 'info' }, sink);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
