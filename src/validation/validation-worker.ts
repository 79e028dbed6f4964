import { parentPort, workerData } from 'node:worker_threads';
import { documentContentHash } from '../documents/content-hash.js';
import { createValidator, type ValidatorOptions } from './index.js';

/** A worker thread that validates large documents off the main event loop (see OffloadingValidator). */
const { packages, options } = workerData as { packages: string[]; options: Pick<ValidatorOptions, 'unknownExtensions'> };
const validator = createValidator(packages, options);
parentPort!.on('message', (message: { id: number; json: string; profile?: string; contentHash?: boolean }) => {
  try {
    const resource = JSON.parse(message.json) as Record<string, unknown>;
    const issues = validator.validate(resource, message.profile);
    // Pushes also have their content hash computed here, off the event loop.
    parentPort!.postMessage({ id: message.id, issues, ...(message.contentHash ? { contentHash: documentContentHash(resource) } : {}) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort!.postMessage({ ready: validator.profileSet });
