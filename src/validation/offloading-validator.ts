import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { documentContentHash } from '../documents/content-hash.js';
import { fhirError } from '../fhir/operation-outcome.js';
import { serialiseWithoutServerMeta, type SerialisedWithoutServerMeta } from '../fhir/server-meta.js';
import { projectRoot } from '../project-root.js';
import type { ProfileValidator, ValidationIssue, ValidatorOptions } from './profile-validator.js';
import { checkPushedDocument, type PushedDocumentCheck } from './pushed-document.js';
import type { ValidationTask, ValidationVerdict } from './validation-worker.js';

/** How many worker threads validate by default: one per core (the event loop shares them). */
export function defaultValidationThreads(): number {
  return availableParallelism();
}

/**
 * Whether `json` is at least `bytes` long in UTF-8, the encoding it arrived in, without encoding
 * it: a UTF-16 unit of a string is 1 to 3 bytes, so only a text between a third of the threshold
 * and the threshold is counted.
 */
function utf8AtLeast(json: string, bytes: number): boolean {
  return json.length >= bytes || (json.length * 3 >= bytes && Buffer.byteLength(json, 'utf8') >= bytes);
}

/**
 * The answer when a worker thread stopped (crashed, ran out of memory, was terminated) while it
 * held a document: nothing was stored and the client may retry; the pool starts a new worker.
 */
function workerLost(): Error {
  const error = fhirError(503, {
    code: 'transient',
    message: 'the document could not be validated: the validation worker stopped while checking it; nothing was stored, retry',
  });
  error.output.headers['Retry-After'] = '1';
  return error;
}

/**
 * Validation that keeps the event loop free: documents whose JSON text is at least
 * `thresholdBytes` long are validated (and, pushed, hashed) on a piscina pool of worker threads,
 * from that text; smaller ones inline, where the hand-over would cost more than it frees. The
 * pool starts with the first such document, each worker loading the same definitions once, so
 * verdicts are the same either way (a worker answering from other definitions is refused). A
 * worker that dies fails the documents it held with a 503 (never a hang) and is replaced.
 */
export class OffloadingValidator {
  private pool: Piscina<ValidationTask, ValidationVerdict> | undefined;

  /** The compiled worker script; undefined when running from sources without a build (some tests). */
  private readonly script: string | undefined;

  constructor(
    private readonly inline: ProfileValidator,
    private readonly packages: readonly string[],
    private readonly thresholdBytes: number,
    /** The options the inline validator was created with: the workers create theirs alike. */
    private readonly options: Pick<ValidatorOptions, 'unknownExtensions'> = {},
    /** Worker threads in the pool. */
    private readonly threads: number = defaultValidationThreads(),
  ) {
    const script = join(projectRoot(), 'dist', 'src', 'validation', 'validation-worker.js');
    this.script = existsSync(script) ? script : undefined;
  }

  get profileSet(): string {
    return this.inline.profileSet;
  }

  knows(profile: string): boolean {
    return this.inline.knows(profile);
  }

  knowsType(type: string): boolean {
    return this.inline.knowsType(type);
  }

  /**
   * Validates a resource; on the pool when the caller gives the JSON text it was parsed from
   * (`json`) and that is at least the threshold long, else inline. The size is learnt from that
   * text only: serialising the resource again just to measure it would cost the event loop about
   * what validating a small one does.
   */
  async validate(resource: Record<string, unknown>, profile?: string, json?: string): Promise<ValidationIssue[]> {
    if (!this.script || json === undefined || !utf8AtLeast(json, this.thresholdBytes)) return this.inline.validate(resource, profile);
    return (await this.run(this.script, { json, ...(profile === undefined ? {} : { profile }) })).issues;
  }

  /**
   * A document, given as the JSON text of the request (`json`, whose UTF-8 length decides) and
   * as parsed from it (`parsed`): its issues and its content hash. From the threshold up both are
   * computed on a worker from one parse of the text, while the event loop goes on with the
   * request's other checks and other requests; smaller ones inline, on `parsed`.
   */
  async checkDocument(json: string, parsed: Record<string, unknown>, profile?: string): Promise<{ issues: ValidationIssue[]; contentHash: string }> {
    if (!this.script || !utf8AtLeast(json, this.thresholdBytes)) return { issues: this.inline.validate(parsed, profile), contentHash: documentContentHash(parsed) };
    const verdict = await this.run(this.script, { json, ...(profile === undefined ? {} : { profile }), contentHash: true });
    return { issues: verdict.issues, contentHash: verdict.contentHash! };
  }

  /**
   * A pushed document, given as the JSON text of the request (`json`) and as parsed from it
   * (`parsed`): its issues and, when it has no error, its text to store without the server's
   * members (`serialised`, completed by `withServerMetaText` once the server's id is chosen). From
   * the threshold up both come from a worker, so that the event loop neither validates nor
   * serialises the document; smaller ones inline, on `parsed`.
   */
  async checkPush(json: string, parsed: Record<string, unknown>, profile?: string): Promise<{ issues: ValidationIssue[]; serialised?: SerialisedWithoutServerMeta }> {
    if (!this.script || !utf8AtLeast(json, this.thresholdBytes)) {
      const issues = this.inline.validate(parsed, profile);
      return issues.some((i) => i.severity === 'error') ? { issues } : { issues, serialised: serialiseWithoutServerMeta(parsed) };
    }
    const verdict = await this.run(this.script, { json, ...(profile === undefined ? {} : { profile }), serialised: true });
    return verdict.serialised === undefined ? { issues: verdict.issues } : { issues: verdict.issues, serialised: verdict.serialised };
  }

  /**
   * Every check of a pushed document from its request text (`checkPushedDocument`: the body's
   * 400s, the document rules, the profile), with its facts and its text to store less the server's
   * members. From the threshold up the event loop neither parses nor validates nor serialises
   * the document: a worker does, from one parse; smaller ones inline, where the parsed document
   * is kept for the caller.
   */
  async checkPushText(json: string, profile?: string): Promise<PushedDocumentCheck> {
    if (!this.script || !utf8AtLeast(json, this.thresholdBytes)) return checkPushedDocument(this.inline, json, profile, true);
    const verdict = await this.dispatch(this.script, { json, ...(profile === undefined ? {} : { profile }), push: true });
    if (!('pushed' in verdict)) throw new Error('a validation worker answered a push with another kind of verdict');
    return verdict.pushed;
  }

  private async run(script: string, task: ValidationTask): Promise<{ issues: ValidationIssue[]; contentHash?: string; serialised?: SerialisedWithoutServerMeta }> {
    const verdict = await this.dispatch(script, task);
    if (!('issues' in verdict)) throw new Error('a validation worker answered a validation with another kind of verdict');
    return verdict;
  }

  /** A task on the pool; the worker's failures and a lost worker as errors, a verdict from other definitions refused. */
  private async dispatch(script: string, task: ValidationTask): Promise<Exclude<ValidationVerdict, { failure: string }>> {
    this.pool ??= new Piscina<ValidationTask, ValidationVerdict>({
      filename: script,
      // Every worker kept: each holds its own copy of the definitions (about 80 MB, 0.3-0.7 s to load).
      minThreads: this.threads,
      maxThreads: this.threads,
      workerData: { packages: [...this.packages], options: { ...this.options } },
    });
    let verdict: ValidationVerdict;
    try {
      verdict = await this.pool.run(task);
    } catch {
      // The task function never throws (validator errors come back as `failure`): the pool lost
      // the worker that held this document.
      throw workerLost();
    }
    if (verdict.profileSet !== this.inline.profileSet) throw new Error('a validation worker loaded other definitions than the node');
    if ('failure' in verdict) throw new Error(`validation failed on a worker thread: ${verdict.failure}`);
    return verdict;
  }

  /** Whether the worker pool has been started (for tests and health). */
  get started(): boolean {
    return this.pool !== undefined;
  }

  /** The pool's worker threads, for tests that stop one. */
  get workerThreads(): readonly Worker[] {
    return this.pool?.threads ?? [];
  }

  /** Stops the worker threads, if any; documents still on them fail. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}
