import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { documentContentHash } from '../documents/content-hash.js';
import { projectRoot } from '../project-root.js';
import type { ProfileValidator, ValidationIssue, ValidatorOptions } from './profile-validator.js';

type Pending = { resolve: (verdict: { issues: ValidationIssue[]; contentHash?: string }) => void; reject: (error: Error) => void };

/**
 * Validation that keeps the event loop free: documents whose JSON is at least `thresholdBytes`
 * are validated on a worker thread (one, started on first use; validating a 100 KB document
 * takes about 10 ms, a 5 MB one would hold every other request for half a second); smaller ones
 * inline. Verdicts are the same either way: the worker loads the same definitions.
 */
export class OffloadingValidator {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** The compiled worker script; undefined when running from sources without a build (some tests). */
  private readonly script: string | undefined;

  constructor(
    private readonly inline: ProfileValidator,
    private readonly packages: readonly string[],
    private readonly thresholdBytes: number,
    /** The options the inline validator was created with: the worker creates its own alike. */
    private readonly options: Pick<ValidatorOptions, 'unknownExtensions'> = {},
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

  async validate(resource: Record<string, unknown>, profile?: string): Promise<ValidationIssue[]> {
    if (!this.script) return this.inline.validate(resource, profile);
    const json = JSON.stringify(resource);
    if (json.length < this.thresholdBytes) return this.inline.validate(resource, profile);
    return (await this.post(this.script, json, profile, false)).issues;
  }

  /**
   * A pushed document, given as the JSON text it was parsed from (`parsed`): its issues and its
   * content hash. From the threshold up both are computed on the worker thread from the text,
   * while the event loop goes on with the request's other checks and other requests: a push
   * then uses both cores. Smaller ones inline, on `parsed`.
   */
  async checkDocument(json: string, parsed: Record<string, unknown>, profile?: string): Promise<{ issues: ValidationIssue[]; contentHash: string }> {
    if (!this.script || json.length < this.thresholdBytes) return { issues: this.inline.validate(parsed, profile), contentHash: documentContentHash(parsed) };
    const verdict = await this.post(this.script, json, profile, true);
    return { issues: verdict.issues, contentHash: verdict.contentHash! };
  }

  private async post(script: string, json: string, profile: string | undefined, contentHash: boolean): Promise<{ issues: ValidationIssue[]; contentHash?: string }> {
    await this.start(script);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, json, ...(profile === undefined ? {} : { profile }), ...(contentHash ? { contentHash } : {}) });
    });
  }

  /** Whether a worker thread is running (for tests and health). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  private start(script: string): Promise<void> {
    if (this.ready) return this.ready;
    this.ready = new Promise<void>((resolve, reject) => {
      const worker = new Worker(script, { workerData: { packages: [...this.packages], options: { ...this.options } } });
      worker.unref();
      worker.on('message', (message: { ready?: string; id?: number; issues?: ValidationIssue[]; contentHash?: string; error?: string }) => {
        if (message.ready !== undefined) {
          if (message.ready !== this.inline.profileSet) reject(new Error('validation worker loaded other definitions'));
          else resolve();
          return;
        }
        const waiting = this.pending.get(message.id!);
        this.pending.delete(message.id!);
        if (message.error !== undefined) waiting?.reject(new Error(message.error));
        else waiting?.resolve({ issues: message.issues!, ...(message.contentHash === undefined ? {} : { contentHash: message.contentHash }) });
      });
      worker.on('error', (error) => {
        reject(error);
        for (const waiting of this.pending.values()) waiting.reject(error);
        this.pending.clear();
        this.worker = undefined;
        this.ready = undefined;
      });
      this.worker = worker;
    });
    return this.ready;
  }

  /** Stops the worker thread, if any. */
  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
    this.ready = undefined;
  }
}
