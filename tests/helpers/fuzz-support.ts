/**
 * Shared machinery of the fuzz tests (tests/fuzz): how many inputs and which seed, a guard that
 * fails the run on any unhandled rejection or uncaught exception, the regression corpus, and the
 * figures each boundary reports when SHELFSENSE_FUZZ_REPORT names a file.
 *
 * Defaults keep `tests/fuzz` within about a minute on two cores; `SHELFSENSE_FUZZ_RUNS=100000` is
 * the big run (`node scripts/fuzz.mjs`). The seed is fixed unless SHELFSENSE_FUZZ_SEED says
 * otherwise, so a default run is the same run every time; fast-check prints the seed and the
 * shrunk counterexample of a failure.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Parameters as FcParameters } from 'fast-check';

export const DEFAULT_SEED = 20_260_101;

/** The seed of this run. */
export const FUZZ_SEED = (() => {
  const s = process.env.SHELFSENSE_FUZZ_SEED;
  if (s === undefined || s === '') return DEFAULT_SEED;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`SHELFSENSE_FUZZ_SEED must be an integer, got "${s}"`);
  return n | 0;
})();

/** True in the big run (SHELFSENSE_FUZZ_RUNS set). */
export const BIG_RUN = (process.env.SHELFSENSE_FUZZ_RUNS ?? '') !== '';

/** Inputs for one boundary: SHELFSENSE_FUZZ_RUNS when set, else the test's default. */
export function fuzzRuns(defaultRuns: number): number {
  const s = process.env.SHELFSENSE_FUZZ_RUNS;
  if (s === undefined || s === '') return defaultRuns;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`SHELFSENSE_FUZZ_RUNS must be ≥ 1, got "${s}"`);
  return n;
}

/** fast-check parameters: this run's seed and `numRuns`, shrinking bounded so a failure reports soon. */
export function fcParams<T>(numRuns: number, extra: FcParameters<T> = {}): FcParameters<T> {
  return { seed: FUZZ_SEED, numRuns, endOnFailure: false, maxSkipsPerRun: 100, ...extra };
}

/** A per-test timeout that grows with the number of inputs (ms per input, plus a floor). */
export function fuzzTimeout(runs: number, msPerInput: number, floorMs = 30_000): number {
  return Math.max(floorMs, Math.ceil(runs * msPerInput) + floorMs);
}

/**
 * Fails the test on any unhandled rejection or uncaught exception while it runs. Vitest would
 * report them too, but only after the run and without saying which input was in flight.
 */
export class ProcessGuard {
  readonly problems: string[] = [];
  private readonly onRejection = (reason: unknown) => {
    this.problems.push(`unhandledRejection: ${describe(reason)}`);
  };
  private readonly onException = (err: unknown) => {
    this.problems.push(`uncaughtException: ${describe(err)}`);
  };

  install(): this {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
    return this;
  }

  /** Throws if anything escaped since install(). */
  check(): void {
    if (this.problems.length > 0) throw new Error(`escaped the handlers:\n${this.problems.join('\n')}`);
  }

  dispose(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }
}

function describe(x: unknown): string {
  return x instanceof Error ? `${x.name}: ${x.message}\n${x.stack ?? ''}` : String(x);
}

// --- regression corpus --------------------------------------------------------------------------

const FUZZ_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fuzz');

/** One kept input: why it is there, and the input in the shape its boundary's replay test reads. */
export interface CorpusEntry<T = unknown> {
  note: string;
  input: T;
}

/** The inputs kept for `boundary` (tests/fuzz/regressions/<boundary>.json). */
export function loadCorpus<T>(boundary: string): CorpusEntry<T>[] {
  const file = join(FUZZ_DIR, 'regressions', `${boundary}.json`);
  const entries = JSON.parse(readFileSync(file, 'utf8')) as CorpusEntry<T>[];
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${file}: no entries`);
  return entries;
}

// --- figures ------------------------------------------------------------------------------------

export interface FuzzFigures {
  boundary: string;
  /** The function or process the inputs went into. */
  target: string;
  /** `direct` (the handler called in-process) or the transport the inputs crossed. */
  transport: 'direct' | 'over MQTT' | 'over HTTP' | 'over TCP';
  runs: number;
  rejects: number;
  accepted: number;
  crashes: number;
  durationMs: number;
  inputsPerSec: number;
  seed: number;
}

/** Counts one boundary's inputs and writes its figures to SHELFSENSE_FUZZ_REPORT (JSON lines). */
export class FuzzTally {
  runs = 0;
  rejects = 0;
  accepted = 0;
  crashes = 0;
  private readonly started = performance.now();

  constructor(
    readonly boundary: string,
    readonly target: string,
    readonly transport: FuzzFigures['transport'],
  ) {}

  reject(): void {
    this.runs++;
    this.rejects++;
  }

  accept(): void {
    this.runs++;
    this.accepted++;
  }

  figures(): FuzzFigures {
    const durationMs = Math.round(performance.now() - this.started);
    return {
      boundary: this.boundary,
      target: this.target,
      transport: this.transport,
      runs: this.runs,
      rejects: this.rejects,
      accepted: this.accepted,
      crashes: this.crashes,
      durationMs,
      inputsPerSec: durationMs > 0 ? Math.round((this.runs * 1000) / durationMs) : this.runs,
      seed: FUZZ_SEED,
    };
  }

  /** Appends the figures to the report file, when one is asked for. */
  report(): FuzzFigures {
    const f = this.figures();
    const file = process.env.SHELFSENSE_FUZZ_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify(f)}\n`);
    return f;
  }
}
