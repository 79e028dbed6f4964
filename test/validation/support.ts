import { readdirSync } from 'node:fs';
import { createValidator, type ProfileValidator } from '../../src/validation/index.js';
import { IPS_EXAMPLES } from '../support/test-node.js';

let shared: ProfileValidator | undefined;

/** One validator for a test file (loading definitions takes about half a second). */
export function validator(): ProfileValidator {
  shared ??= createValidator();
  return shared;
}

/** Every official IPS 2.0.0 example file. */
export function allIpsExamples(): string[] {
  return readdirSync(IPS_EXAMPLES).filter((f) => f.endsWith('.json')).sort();
}
