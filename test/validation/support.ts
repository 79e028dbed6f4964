import { readdirSync } from 'node:fs';
import { IPS_EXAMPLES, sharedValidator } from '../support/test-node.js';

/** The validator shared by a test file. */
export const validator = sharedValidator;

/** Every official IPS 2.0.0 example file. */
export function allIpsExamples(): string[] {
  return readdirSync(IPS_EXAMPLES).filter((f) => f.endsWith('.json')).sort();
}
