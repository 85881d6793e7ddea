import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Outbox } from '@shelfsense/agent';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const child = join(here, 'fixtures', 'outbox-child.mjs');
const compiled = join(here, '..', '..', '..', 'agent', 'dist', 'outbox', 'index.js');

interface Run {
  ready: number;
  appended: number[];
  trims: number[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs the appending child until it has reported `atLeast` appends, then kills it with SIGKILL
 * mid-stream and returns everything it reported before dying.
 */
function runAndKill(
  dir: string,
  fsync: string,
  segmentBytes: number,
  trimEvery: number,
  atLeast: number,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, fsync, String(segmentBytes), String(trimEvery)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    const run: Run = { ready: -1, appended: [], trims: [], code: null, signal: null };
    let rest = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child reported ${run.appended.length} appends in time; stderr: ${stderr}`));
    }, 20_000);
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.stdout.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, value] = line.split(' ');
        if (kind === 'R') run.ready = Number(value);
        else if (kind === 'A') run.appended.push(Number(value));
        else if (kind === 'T') run.trims.push(Number(value));
      }
      if (!killed && run.appended.length >= atLeast) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      if (!killed) reject(new Error(`child exited by itself (${code}); stderr: ${stderr}`));
      else resolve(run);
    });
  });
}

async function reopen(dir: string): Promise<Outbox> {
  return Outbox.open(dir, { logger: pino({ level: 'silent' }), bootId: 'test-boot', segmentBytes: 8192 });
}

function allSeqs(outbox: Outbox): number[] {
  const out: number[] = [];
  let after = 0;
  for (;;) {
    const batch = outbox.peek(after, 5000);
    if (batch.length === 0) return out;
    out.push(...batch.map((r) => r.seq));
    after = batch.at(-1)!.seq;
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-outbox-kill-'));
  dirs.push(dir);
  return dir;
}

describe('outbox survives kill -9 of its process', () => {
  beforeAll(() => {
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: build first (npx tsc -b agent)`);
  });

  for (const fsync of ['interval', 'none'] as const) {
    it(`[outbox-kill9] fsync=${fsync}: every seq the killed child reported is on disk, in order, once`, async () => {
      const dir = tempDir();
      const first = await runAndKill(dir, fsync, 8192, 0, 3000);
      expect(first.signal).toBe('SIGKILL');
      expect(first.ready).toBe(0);
      expect(first.appended).toEqual(Array.from({ length: first.appended.length }, (_, i) => i + 1));

      // A restart after kill -9 takes over the stale lock and numbering continues, no reuse.
      const second = await runAndKill(dir, fsync, 8192, 0, 2000);
      expect(second.ready).toBeGreaterThanOrEqual(first.appended.at(-1)!);
      expect(second.appended[0]).toBe(second.ready + 1);

      const outbox = await reopen(dir);
      try {
        const seqs = allSeqs(outbox);
        // Strictly increasing by one from 1: nothing lost, duplicated or out of order.
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        expect(seqs.at(-1)).toBeGreaterThanOrEqual(second.appended.at(-1)!);
        expect(outbox.stats().dropped).toEqual({ maxRecords: 0, maxBytes: 0, maxAge: 0, corrupt: 0 });
        const recs = outbox.peek(first.ready, 3);
        expect(recs[0]?.payload).toMatchObject({ i: 0, pad: '' });
      } finally {
        await outbox.close();
      }
    });
  }

  it('[outbox-kill9-trim] killed while trimming as it goes: every reported record not yet trimmed is there', async () => {
    const dir = tempDir();
    const run = await runAndKill(dir, 'interval', 8192, 100, 4000);
    const lastTrim = run.trims.at(-1)!;
    expect(lastTrim).toBeGreaterThan(0);
    const outbox = await reopen(dir);
    try {
      const seqs = allSeqs(outbox);
      const last = run.appended.at(-1)!;
      // The mark reaches the meta file lazily: a few trimmed records may come back (delivery is
      // at least once), but every record after the last trim is there, in order, once.
      expect(seqs[0]).toBeLessThanOrEqual(lastTrim + 1);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(seqs.at(-1)).toBeGreaterThanOrEqual(last);
      expect(outbox.append({ topic: 'shelfsense/v1/site1/shelf1/lane1/level', payload: {} })).toBe(
        seqs.at(-1)! + 1,
      );
    } finally {
      await outbox.close();
    }
  });
});
