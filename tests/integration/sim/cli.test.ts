/**
 * `shelfsense sim` as installed: the compiled CLI in a child process (build first:
 * `npx tsc -b tsconfig.build.json`).
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_NAMES, loadTruth } from '@shelfsense/firmware-sim';
import { decodeDeviceLine, encodeCommand, type SampleFrame } from '@shelfsense/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAll, runCli, shelfsense } from '../../helpers/proc.js';
import { withTimeout } from '../../helpers/wait.js';
import { openSerial, openTcp } from './reader.js';

const MAIN = 'cli/dist/main.js';
const dir = mkdtempSync(join(tmpdir(), 'shelfsense-simcli-'));
afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('shelfsense sim (compiled CLI)', () => {
  it('[sim-cli] --help explains the options and exits 0', async () => {
    const r = await runCli(MAIN, ['sim', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: shelfsense sim/);
    expect(r.stdout).toMatch(/--virtual/);
    expect(r.stdout).toMatch(/--scenario NAME\|FILE/);
  });

  it.each([
    [['--rate', '20'], /--rate/],
    [['--shelves', '0'], /--shelves/],
    [['--seed', 'abc'], /--seed/],
    [['--duration', '5q'], /--duration/],
    [['--bogus'], /bogus/],
    [['--device', '/dev/null', '--tcp', '0'], /--device: cannot be combined with --tcp/],
    [['stray'], /unexpected argument "stray"/],
    [['--device', '/nonexistent/tty'], /--device: \/nonexistent\/tty does not exist/],
  ])('[sim-cli] bad flags %j exit 2 naming the flag', async (args, message) => {
    const r = await runCli(MAIN, ['sim', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('[sim-cli] an unknown scenario name exits 2 listing the built-ins', async () => {
    const r = await runCli(MAIN, ['sim', '--scenario', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/neither a built-in/);
    expect(r.stderr).toMatch(/steady/);
  });

  it('[sim-scenario-validate] a bad scenario file exits 2 with an error naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['events:\n  - { at: 1s, action: remove, lane: left }\n', /events\.0\.lane/],
      ['events:\n  - { at: 1s, action: remove, lane: 7 }\n', /events\.0\.lane: no lane 7/],
      ['shelves:\n  - lanes: [{ unitWeightG: 0 }]\n', /shelves\.0\.lanes\.0\.unitWeightG/],
      ['rate: 40\n', /rate/],
      ['events: [ {\n', /not valid YAML/],
      ['{"events": [{"action": "vanish"}]}', /events\.0\.ms/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const r = await runCli(MAIN, ['sim', '--scenario', file(`bad${i}.yaml`, text)]);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(message);
    }
  });

  it('[sim-cli] --list-scenarios prints every built-in as JSON', async () => {
    const r = await runCli(MAIN, ['sim', '--list-scenarios']);
    expect(r.code).toBe(0);
    const names = r.stdout.split('\n').map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names).toEqual(BUILTIN_NAMES);
  });

  it('[sim-cli] virtual time over TCP for a set duration: prints the port, serves every frame, writes the truth, exits 0', async () => {
    const truthFile = join(dir, 'truth.jsonl');
    const p = shelfsense([
      'sim',
      '--tcp',
      '0',
      '--virtual',
      '--duration',
      '30s',
      '--seed',
      '3',
      '--scenario',
      'steady',
      '--truth',
      truthFile,
    ]);
    const shelf = await p.waitForJson<{ type: string; serial: string; port: number }>(
      (o) => o.type === 'shelf',
    );
    const control = await p.waitForJson<{ type: string; url: string }>((o) => o.type === 'control');
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await p.waitForJson((o) => o.type === 'ready');
    const r = await openTcp(shelf.port);
    await p.waitForJson((o) => o.type === 'done', 20_000);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    await r.waitFor(() => r.closed, 5000, 0, 'the connection to close');
    const frames = r.samples();
    expect(frames).toHaveLength(30 * 80);
    expect(frames.map((f: SampleFrame) => f.seq)).toEqual(frames.map((_, k) => k));
    const truth = loadTruth(truthFile);
    expect(truth.states(shelf.serial)[0]?.cause).toBe('start');
    expect(truth.states(shelf.serial).some((s) => s.cause === 'remove')).toBe(true);
  });

  it('[sim-cli] at the end of a virtual run the TCP connection closes cleanly: a slow reader that keeps sending commands loses no frame', async () => {
    const p = shelfsense([
      'sim',
      '--tcp',
      '0',
      '--virtual',
      '--duration',
      '5s',
      '--seed',
      '4',
      '--scenario',
      'steady',
    ]);
    const shelf = await p.waitForJson<{ type: string; port: number }>((o) => o.type === 'shelf');
    await p.waitForJson((o) => o.type === 'ready');
    // Reads at most every 50 ms, as a paced agent does, and sends an identify command after every
    // read: bytes the simulator may not have read when the run ends. Closing with unread input
    // resets the connection, and a reset discards the frames the reader had not read yet.
    const buffer = Buffer.allocUnsafe(4096);
    let text = '';
    const ended: string[] = [];
    const sock = connect({
      host: '127.0.0.1',
      port: shelf.port,
      onread: {
        buffer,
        callback: (n) => {
          text += buffer.toString('latin1', 0, n);
          if (!sock.writableEnded) sock.write(encodeCommand({ type: 'identify' }));
          setTimeout(() => sock.resume(), 50);
          return false;
        },
      },
    });
    sock.on('end', () => ended.push('end'));
    sock.on('error', (err: NodeJS.ErrnoException) => ended.push(err.code ?? err.message));
    const closed = once(sock, 'close');
    await p.waitForJson((o) => o.type === 'done', 60_000);
    await withTimeout(closed, 10_000, 'the connection to close');
    expect(ended).toEqual(['end']);
    const seqs = text
      .split('\n')
      .filter((l) => l.startsWith('S,'))
      .map((l) => (decodeDeviceLine(l) as SampleFrame).seq);
    expect(seqs).toEqual(Array.from({ length: 5 * 80 }, (_, k) => k));
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });

  it('[sim-cli] by default it makes a pty per shelf, prints its path, and cleans up on SIGTERM', async () => {
    const p = shelfsense(['sim', '--shelves', '2', '--serial', 'CLI-A']);
    const shelves = [
      await p.waitForJson<{ type: string; serial: string; path: string }>(
        (o) => o.type === 'shelf' && o.serial === 'CLI-A',
      ),
      await p.waitForJson<{ type: string; serial: string; path: string }>(
        (o) => o.type === 'shelf' && o.serial !== 'CLI-A',
      ),
    ];
    await p.waitForJson((o) => o.type === 'ready');
    const r = await openSerial(shelves[0]!.path);
    r.command({ type: 'identify' });
    const id = await r.waitFor((x) => x.frame?.type === 'identity', 5000, 0, 'ID reply');
    expect(id.frame).toMatchObject({ serial: 'CLI-A', channels: 4 });
    await r.close();
    expect(await p.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    for (const s of shelves) expect(existsSync(s.path)).toBe(false);
  });
});
