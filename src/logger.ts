import pino, { type Logger } from 'pino';
import type { NodeConfig } from './config.js';

/**
 * The node's structured logger. Fields that could carry patient data are redacted as a second
 * line of defence; the first is that nothing logs requests' paths, queries or bodies.
 */
export function createLogger(config: Pick<NodeConfig, 'logLevel' | 'country'>): Logger {
  return pino({
    level: config.logLevel,
    base: { node: config.country },
    redact: {
      paths: ['req.url', 'req.headers', 'req.query', 'payload', 'body', 'patient', 'identifier', '*.authorization'],
      censor: '[redacted]',
    },
  });
}
