import pino, { type Logger } from 'pino';
import type { NodeConfig } from './config.js';

/**
 * What an error may say in a log line: its class, its code and where it was raised. Its message
 * is left out on purpose: messages of parser, driver and validation errors quote what they were
 * given (request bytes, duplicate keys, document content), and every other property may too
 * (Node's `rawPacket` holds the raw request, bearer token included).
 */
export function loggableError(error: unknown): { type: string; code?: string; stack?: string } {
  // Duck-typed: errors from another realm (a worker, a VM context) are not `instanceof Error`.
  if (error === null || typeof error !== 'object' || typeof (error as { stack?: unknown }).stack !== 'string') return { type: typeof error };
  const { code, stack } = error as { code?: unknown; stack: string };
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12)
    .join('\n');
  return { type: (error as { constructor?: { name?: string } }).constructor?.name ?? 'Error', ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}), ...(frames ? { stack: frames } : {}) };
}

/**
 * The node's structured logger. Errors are reduced to {@link loggableError}; fields that could
 * carry patient data are redacted as a second line of defence (the first is that nothing logs
 * requests' paths, queries, headers or bodies).
 */
export function createLogger(config: Pick<NodeConfig, 'logLevel' | 'country'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { node: config.country },
    serializers: { err: loggableError, error: loggableError },
    redact: {
      paths: ['req', 'res', 'headers', 'rawPacket', 'payload', 'body', 'query', 'patient', 'identifier', '*.authorization', '*.rawPacket', '*.headers'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
