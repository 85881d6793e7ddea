/**
 * Child processes for tests: spawn a compiled CLI (`node <pkg>/dist/...`), wait for a line on its
 * stdout with a timeout, and kill and reap it. Every process spawned here is tracked, so an
 * `afterEach(killAll)` leaves nothing running even when a test fails half-way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type LineMatch = string | RegExp | ((line: string) => boolean);

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every complete stdout line so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The first stdout line (already seen or still to come) that matches; rejects on timeout or exit. */
  waitForLine(match: LineMatch, timeoutMs?: number): Promise<string>;
  /** The first stdout line that is JSON and satisfies `pred`, parsed. */
  waitForJson<T = Record<string, unknown>>(pred: (obj: T) => boolean, timeoutMs?: number): Promise<T>;
  readonly exited: Promise<Exit>;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `timeoutMs`; resolves once reaped. */
  kill(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const live = new Set<CliProcess>();

function matches(m: LineMatch, line: string): boolean {
  if (typeof m === 'string') return line.includes(m);
  if (m instanceof RegExp) return m.test(line);
  return m(line);
}

/** Spawns `node <script> ...args` from the repository root. */
export function spawnCli(
  script: string,
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv } = {},
): CliProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<(line: string | null) => void>();
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters) w(line);
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of waiters) w(null);
      resolve({ code, signal });
    });
  });

  const proc: CliProcess = {
    child,
    pid: child.pid ?? -1,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(match, timeoutMs = 10_000) {
      const seen = lines.find((l) => matches(match, l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (err: Error | null, line?: string) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          if (err) reject(err);
          else resolve(line as string);
        };
        const waiter = (line: string | null) => {
          if (line === null)
            done(
              new Error(`process exited before printing a line matching ${String(match)}; stderr: ${stderr}`),
            );
          else if (matches(match, line)) done(null, line);
        };
        const timer = setTimeout(
          () =>
            done(new Error(`no line matching ${String(match)} within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.add(waiter);
        if (child.exitCode !== null || child.signalCode !== null) waiter(null);
      });
    },
    async waitForJson<T>(pred: (obj: T) => boolean, timeoutMs?: number) {
      const parse = (line: string): T | undefined => {
        try {
          return JSON.parse(line) as T;
        } catch {
          return undefined;
        }
      };
      const line = await proc.waitForLine((l) => {
        const obj = parse(l);
        return obj !== undefined && obj !== null && pred(obj);
      }, timeoutMs);
      return parse(line) as T;
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(proc);
      return exited;
    },
  };
  live.add(proc);
  exited.then(() => live.delete(proc));
  return proc;
}

/** `node cli/dist/main.js ...args`: the `shelfsense` command as installed. */
export function shelfsense(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): CliProcess {
  return spawnCli('cli/dist/main.js', args, opts);
}

/** Runs a CLI to completion (killing it after `timeoutMs`) and returns its exit and output. */
export async function runCli(
  script: string,
  args: string[] = [],
  timeoutMs = 15_000,
): Promise<Exit & { stdout: string; stderr: string }> {
  const p = spawnCli(script, args);
  const timer = setTimeout(() => {
    p.child.kill('SIGKILL');
  }, timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return { ...exit, stdout: p.lines.join('\n'), stderr: p.stderr() };
}

/** Kills and reaps every process spawned through this module that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGTERM')));
}
