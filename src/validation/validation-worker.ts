import { parentPort, workerData } from 'node:worker_threads';
import { createValidator, type ValidatorOptions } from './index.js';

/** A worker thread that validates large documents off the main event loop (see OffloadingValidator). */
const { packages, options } = workerData as { packages: string[]; options: Pick<ValidatorOptions, 'unknownExtensions'> };
const validator = createValidator(packages, options);
parentPort!.on('message', (message: { id: number; json: string; profile?: string }) => {
  try {
    const issues = validator.validate(JSON.parse(message.json) as Record<string, unknown>, message.profile);
    parentPort!.postMessage({ id: message.id, issues });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort!.postMessage({ ready: validator.profileSet });
