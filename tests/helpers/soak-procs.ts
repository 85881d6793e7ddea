/**
 * Child processes of a soak run and their memory: the compiled `shelfsense` command started with a
 * preload that forces a full GC on SIGUSR2 and writes the memory figures right after it, a sampler
 * that asks for one and waits for the answer, and the least-squares slope of a series.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliProcess, ROOT, shelfsense, spawnCli } from './proc.js';
import { waitFor } from './wait.js';

export const GC_PRELOAD = join(ROOT, 'tests/soak/gc-preload.cjs');

export interface MemSample {
  pid: number;
  ts: number;
  gcMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** A `shelfsense` subcommand with the GC preload; memory lines go to `memFile`. */
export function soakChild(args: string[], memFile: string): CliProcess {
  return shelfsense(args, { env: preloadEnv(memFile) });
}

/**
 * The agent as deploy/shelfsense-agent.service runs it: the node flags and the bundled script of its
 * ExecStart (taken from this checkout's agent/), with the GC preload.
 */
export function soakAgent(configFile: string, memFile: string): CliProcess {
  const unit = readFileSync(join(ROOT, 'deploy/shelfsense-agent.service'), 'utf8');
  const m = /^ExecStart=\S+((?: --[\w-]+(?:=\S+)?)*) \S+\/@shelfsense\/agent\/(\S+) --config /m.exec(unit);
  if (!m) throw new Error('deploy/shelfsense-agent.service: no ExecStart running @shelfsense/agent');
  const flags = (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const script = join(ROOT, 'agent', m[2] as string);
  if (!existsSync(script)) throw new Error(`${script} is missing: build first (npm run build)`);
  // Some of the unit's flags (--single-threaded) are not allowed in NODE_OPTIONS: they go before
  // the script on the command line, which spawnCli() starts as `node <first> <rest…>`.
  const [first, ...rest] = [...flags, script, '--config', configFile];
  return spawnCli(first as string, rest, { env: preloadEnv(memFile) });
}

function preloadEnv(memFile: string): NodeJS.ProcessEnv {
  const inherited = process.env.NODE_OPTIONS ?? '';
  return {
    SHELFSENSE_SOAK_MEM: memFile,
    // vitest or tsx may have put a loader here: the children run compiled JavaScript only.
    NODE_OPTIONS: `${inherited
      .split(/\s+/)
      .filter((o) => o.startsWith('--max'))
      .join(' ')} --require=${JSON.stringify(GC_PRELOAD)}`.trim(),
  };
}

function readSamples(file: string): MemSample[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MemSample);
}

/** Forces a GC in `proc` and returns its memory right after (rejects after `timeoutMs`). */
export async function sampleMemory(
  proc: CliProcess,
  memFile: string,
  timeoutMs = 15_000,
): Promise<MemSample> {
  const before = readSamples(memFile).length;
  proc.child.kill('SIGUSR2');
  return waitFor(() => readSamples(memFile)[before], timeoutMs, {
    intervalMs: 20,
    what: `memory sample of pid ${proc.pid}`,
  });
}

/** Least-squares slope of y over x (0 with fewer than two points or no spread in x). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** One Prometheus gauge or counter value (the first series of that name), or undefined. */
export function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** CPU seconds (user + system) of a live process, from /proc; undefined once it is gone. */
export function cpuSeconds(pid: number, clockTicks = 100): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clockTicks;
  } catch {
    return undefined;
  }
}
