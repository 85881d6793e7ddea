/**
 * The simavr harness (firmware/sim/build/shelfsense-mcu) for its own tests: the tools it needs, its
 * build with the test firmware, a wrapper of the harness as a child process that decodes the test
 * firmware's lines and the harness's JSON events, and raw-count feeds.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ROOT } from '../../helpers/proc.js';

export const SIM_DIR = join(ROOT, 'firmware/sim');
export const HARNESS = join(SIM_DIR, 'build/shelfsense-mcu');
export const elf = (variant: string) => join(SIM_DIR, `build/test-fw/testfw-${variant}.elf`);
export const dir = mkdtempSync(join(tmpdir(), 'shelfsense-mcu-'));

// ---- tools --------------------------------------------------------------------------------------

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export const TOOLS: { what: string; present: () => boolean; pkg: string }[] = [
  { what: 'make', present: () => onPath('make'), pkg: 'make' },
  { what: 'gcc', present: () => onPath('gcc'), pkg: 'gcc' },
  { what: 'pkg-config', present: () => onPath('pkg-config'), pkg: 'pkg-config' },
  { what: 'avr-gcc', present: () => onPath('avr-gcc'), pkg: 'gcc-avr' },
  {
    what: 'avr-libc (avr/io.h)',
    present: () => existsSync('/usr/lib/avr/include/avr/io.h'),
    pkg: 'avr-libc',
  },
  { what: 'simavr', present: () => onPath('simavr'), pkg: 'simavr' },
  {
    what: 'libsimavr headers and library (pkg-config simavr)',
    present: () =>
      existsSync('/usr/include/simavr/sim_avr.h') &&
      spawnSync('pkg-config', ['--exists', 'simavr'], { stdio: 'ignore' }).status === 0,
    pkg: 'libsimavr-dev',
  },
  {
    what: 'libelf headers (libelf.h)',
    present: () => existsSync('/usr/include/libelf.h'),
    pkg: 'libelf-dev',
  },
];

/** Checks the tools (naming the apt packages) and builds the harness and its test firmware. */
export function buildHarnessAndTestFirmware(): void {
  const missing = TOOLS.filter((t) => !t.present());
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))];
    throw new Error(
      `the simavr harness cannot be built: missing ${missing.map((t) => `${t.what} (package ${t.pkg})`).join(', ')}; ` +
        `install them with: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
  }
  try {
    execFileSync('make', ['-C', SIM_DIR, '-j2', 'all', 'test-fw'], { stdio: 'pipe', timeout: 240_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `make -C firmware/sim failed: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`,
    );
  }
}

// ---- the harness as a child process -------------------------------------------------------------

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type Json = Record<string, unknown>;

export interface Read {
  /** index in the stdout lines */
  index: number;
  /** reads since the firmware booted */
  n: number;
  /** the firmware's clock (µs since boot) when channel 0 was ready */
  t: number;
  /** DOUT lines that were low (ready), bit per channel */
  ready: number;
  v: number[];
}

export class Sim {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly events: Json[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  readonly feed: Writable | null;
  private partial = '';
  private errPartial = '';
  private readonly listeners = new Set<() => void>();
  private done = false;

  constructor(args: string[], opts: { feed?: boolean } = {}) {
    this.child = spawn(HARNESS, args, {
      cwd: ROOT,
      stdio: opts.feed ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    this.feed = opts.feed ? (this.child.stdio[3] as Writable) : null;
    // Writes after the harness exits fail with EPIPE; the exit itself is what the tests look at.
    this.feed?.on('error', () => {});
    this.child.stdin?.on('error', () => {});
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.notify();
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      const parts = (this.errPartial + chunk).split('\n');
      this.errPartial = parts.pop() ?? '';
      for (const line of parts) this.events.push(JSON.parse(line) as Json);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.done = true;
        this.notify();
        resolve({ code, signal });
      });
    });
    live.add(this);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /** Resolves with the first truthy value of `probe`, re-checked on every output; rejects on timeout or exit. */
  until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v: T | undefined | null | false;
        try {
          v = probe();
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (v) finish(null, v);
        else if (this.done) finish(new Error(`harness exited while waiting for ${what}; ${this.describe()}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`)),
        timeoutMs,
      );
      const finish = (err: Error | null, v?: T) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (err) reject(err);
        else resolve(v as T);
      };
      this.listeners.add(check);
      check();
    });
  }

  describe(): string {
    return `stdout tail: ${JSON.stringify(this.lines.slice(-6))}; stderr: ${this.stderr.slice(-1500)}`;
  }

  /** The first stdout line at or after `from` that matches. */
  line(match: RegExp, from = 0, timeoutMs?: number): Promise<{ line: string; index: number }> {
    return this.until(
      () => {
        for (let i = from; i < this.lines.length; i++) {
          const line = nth(this.lines, i);
          if (match.test(line)) return { line, index: i };
        }
        return undefined;
      },
      `a stdout line matching ${match} (from line ${from})`,
      timeoutMs,
    );
  }

  event(name: string, pred: (e: Json) => boolean = () => true, timeoutMs?: number): Promise<Json> {
    return this.until(
      () => this.events.find((e) => e.event === name && pred(e)),
      `a stderr ${name} event`,
      timeoutMs,
    );
  }

  reads(from = 0): Read[] {
    const out: Read[] = [];
    for (let i = from; i < this.lines.length; i++) {
      const m = /^D (\d+) (\d+) ([0-9a-f]{4})((?: -?\d+)+)$/.exec(nth(this.lines, i));
      if (m)
        out.push({
          index: i,
          n: Number(m[1]),
          t: Number(m[2]),
          ready: Number.parseInt(String(m[3]), 16),
          v: String(m[4]).trim().split(' ').map(Number),
        });
    }
    return out;
  }

  /** Waits until `count` reads exist at or after line `from`. */
  waitReads(count: number, from = 0, timeoutMs?: number): Promise<Read[]> {
    return this.until(
      () => {
        const r = this.reads(from);
        return r.length >= count ? r : undefined;
      },
      `${count} D lines from line ${from}`,
      timeoutMs,
    );
  }

  send(text: string): void {
    this.child.stdin?.write(text);
  }

  /** Sends `signal` and returns the exit and the exit event (SIGKILL after the timeout). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<{ exit: Exit; stats: Json }> {
    if (!this.done) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    live.delete(this);
    const stats = this.events.find((e) => e.event === 'exit');
    if (!stats) throw new Error(`no exit event; ${this.describe()}`);
    return { exit, stats };
  }
}

export const live = new Set<Sim>();

/** list[i], which must exist. */
export function nth<T>(list: readonly T[], i: number): T {
  const v = list[i < 0 ? list.length + i : i];
  if (v === undefined) throw new Error(`no element ${i} in a list of ${list.length}`);
  return v;
}

export function args(variant: string, mcu: string, channels: number, extra: string[] = []): string[] {
  return ['--elf', elf(variant), '--mcu', mcu, '--channels', String(channels), ...extra];
}

/** Runs the harness to its exit (bounded) for flag checks. */
export async function runToExit(argv: string[], timeoutMs = 10_000): Promise<{ exit: Exit; sim: Sim }> {
  const sim = new Sim(argv);
  const timer = setTimeout(() => sim.child.kill('SIGKILL'), timeoutMs);
  const exit = await sim.exited;
  clearTimeout(timer);
  live.delete(sim);
  return { exit, sim };
}

export const UNO4 = ['atmega328p-uno4', 'atmega328p', 4] as const;

// ---- feed helpers --------------------------------------------------------------------------------

/** Lines "<us> <raw...>" for us = from, from+step, ..., to. */
export function feedLines(
  from: number,
  to: number,
  step: number,
  raw: (us: number, c: number) => number,
  n: number,
) {
  let s = '';
  for (let us = from; us <= to; us += step) {
    s += `${us}`;
    for (let c = 0; c < n; c++) s += ` ${raw(us, c)}`;
    s += '\n';
  }
  return s;
}

export const SPECIAL = [0, 1, -1, 8388607, -8388608, 0x123456, -1234567, 42];
export const special = (row: number, c: number) => nth(SPECIAL, (row + c) % SPECIAL.length);
/** Timing pattern: the raw says when the line was written, per channel distinct, half negative. */
export const stamp = (us: number, c: number) => (c % 2 ? -1 : 1) * (us + c);
