// The HL7 FHIR validator engine in one warm JVM (ConformanceRunner.java), built with Maven from
// Maven Central on first use; files are validated one at a time over a line protocol.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensurePackages } from './packages.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CLASSES = join(HERE, 'target', 'classes');
const CLASSPATH = join(HERE, 'target', 'classpath.txt');

/** Compiles the runner and writes its classpath (Maven, once). */
export function buildRunner() {
  const compiled = join(CLASSES, 'eu', 'pontis', 'conformance', 'ConformanceRunner.class');
  const source = join(HERE, 'src', 'eu', 'pontis', 'conformance', 'ConformanceRunner.java');
  if (existsSync(compiled) && existsSync(CLASSPATH) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs) return;
  process.stderr.write('conformance: building the HL7 validator runner with Maven (first run only)\n');
  execFileSync('mvn', ['-q', '-B', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH}`], { cwd: HERE, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Message ids the engine gives when it lacks a terminology server (not the document's fault). */
export const NO_TERMINOLOGY_IDS = new Set([
  'Validation_VAL_Profile_MatchMultiple',
  'Error_validating_code_running_without_terminology_services',
  'TERMINOLOGY_TX_NOSVC_BOUND_REQ',
  'TERMINOLOGY_TX_NOSVC_BOUND_EXT',
]);

export class Hl7Validator {
  static async start({ heapMb = 3072 } = {}) {
    buildRunner();
    const home = ensurePackages();
    const classpath = `${CLASSES}:${readFileSync(CLASSPATH, 'utf8').trim()}`;
    const child = spawn('java', [`-Xmx${heapMb}m`, `-Duser.home=${home}`, '-cp', classpath, 'eu.pontis.conformance.ConformanceRunner'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d) => {
      log = (log + d.toString()).slice(-20000);
    });
    const lines = createInterface({ input: child.stdout });
    const validator = new Hl7Validator(child, lines, () => log);
    const ready = await validator.next();
    if (!ready?.ready) throw new Error(`HL7 validator did not start:\n${log}`);
    validator.startupMs = ready.startupMs;
    return validator;
  }

  constructor(child, lines, log) {
    this.child = child;
    this.log = log;
    this.waiting = [];
    this.buffered = [];
    lines.on('line', (line) => {
      const parsed = JSON.parse(line);
      const waiter = this.waiting.shift();
      if (waiter) waiter(parsed);
      else this.buffered.push(parsed);
    });
    child.on('exit', (code) => {
      for (const waiter of this.waiting.splice(0)) waiter(undefined);
      this.exitCode = code;
    });
  }

  next() {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift());
    if (this.exitCode !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The engine's messages for a file, validated `repetitions` times (times of each kept). */
  async validate(file, profile = '', repetitions = 1) {
    this.child.stdin.write(`${file}\t${profile}\t${repetitions}\n`);
    const result = await this.next();
    if (!result) throw new Error(`HL7 validator stopped:\n${this.log()}`);
    return result;
  }

  async close() {
    this.child.stdin.end();
    await new Promise((resolve) => (this.exitCode !== undefined ? resolve() : this.child.on('exit', resolve)));
  }
}

/**
 * Errors of an engine answer, split into the document's own and those the harness causes: no
 * terminology server (slices told apart by required bindings match several, and a required slice
 * of the same list then goes unfilled), and, for resources outside a Bundle, references to other
 * examples that the engine cannot fetch here (the IG publisher validates with them all loaded).
 */
export function hl7Errors(result, { standalone = false } = {}) {
  const errors = (result.issues ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  const noTerminology = errors.filter((i) => NO_TERMINOLOGY_IDS.has(i.id));
  const lastSegment = (path) => path.replace(/\/\*[^*]*\*\//g, '').replace(/\[\d+\]/g, '').split('.').pop();
  const ambiguousLists = new Set(noTerminology.filter((i) => i.id === 'Validation_VAL_Profile_MatchMultiple').map((i) => lastSegment(i.location)));
  const slices = errors.filter((i) => {
    if (i.id !== 'Validation_VAL_Profile_Minimum_SLICE') return false;
    const sliced = /Slice '([^':]+):/.exec(i.message)?.[1];
    return sliced !== undefined && ambiguousLists.has(sliced.split('.').pop());
  });
  const unfetchable = standalone ? errors.filter((i) => i.id === 'Reference_REF_CantResolve') : [];
  const own = errors.filter((i) => !noTerminology.includes(i) && !slices.includes(i) && !unfetchable.includes(i));
  return { own, noTerminology: [...noTerminology, ...slices], unfetchable, failure: result.failure };
}
