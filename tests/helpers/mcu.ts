/**
 * The shelf firmware as flashed, for tests: builds the AVR ELF (firmware/Makefile) and the simavr
 * harness (firmware/sim), and runs one in the other with the UART on stdio, the HX711s fed from a
 * static or scripted raw feed, lines decoded as a host reads them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import { DEFAULT_HARNESS, type McuStats } from '@shelfsense/firmware-sim';
import { LineReader } from '../integration/sim/reader.js';
import { ROOT } from './proc.js';

export type Board = 'mega' | 'uno';
const DEFAULT_CHANNELS: Record<Board, number> = { mega: 8, uno: 4 };

function make(dir: string, args: string[]): void {
  try {
    execFileSync('make', ['-s', '-C', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `make -C ${dir} ${args.join(' ')} failed: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`,
    );
  }
}

/** Builds the firmware for a board and channel count; returns its ELF. */
export function buildFirmware(board: Board, channels: number): string {
  make(join(ROOT, 'firmware'), [board, `CHANNELS=${channels}`]);
  // A build with the board's own channel count is build/<board>, another build/<board>-<n>ch.
  const dir = channels === DEFAULT_CHANNELS[board] ? board : `${board}-${channels}ch`;
  const elf = join(ROOT, 'firmware/build', dir, 'shelfsense.elf');
  if (!existsSync(elf)) throw new Error(`the build made no ${elf}`);
  return elf;
}

/** Builds the simavr harness; returns its path. */
export function buildHarness(): string {
  make(join(ROOT, 'firmware/sim'), []);
  if (!existsSync(DEFAULT_HARNESS)) throw new Error(`the build made no ${DEFAULT_HARNESS}`);
  return DEFAULT_HARNESS;
}

export interface McuOptions {
  elf: string;
  mcu: 'atmega2560' | 'atmega328p';
  channels: number;
  /** Raw counts per channel, held from time 0 (the feed then ends). */
  raw?: number[];
  eeprom?: string;
  dead?: number[];
  speed?: number;
  /** The die temperature the ATmega328P's own sensor reads, °C (--temp-c); none when left out. */
  tempC?: number;
  /** The whole feed (fd 3) as text, instead of `raw` held from time 0. */
  feed?: string;
}

export interface McuProc {
  readonly reader: LineReader;
  readonly child: ChildProcess;
  /** Sends bytes to the MCU's UART. */
  send(text: string): void;
  /** SIGUSR1: the MCU resets (a reboot). */
  reset(): void;
  /** SIGTERM; resolves with the harness's counters. */
  stop(): Promise<McuStats>;
}

const running = new Set<McuProc>();

export async function startMcu(o: McuOptions): Promise<McuProc> {
  const args = [
    '--elf',
    o.elf,
    '--mcu',
    o.mcu,
    '--channels',
    String(o.channels),
    '--speed',
    String(o.speed ?? 1),
  ];
  if (o.eeprom) args.push('--eeprom', o.eeprom);
  if (o.dead?.length) args.push('--dead', o.dead.join(','));
  if (o.tempC !== undefined) args.push('--temp-c', String(o.tempC));
  const child = spawn(DEFAULT_HARNESS, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const feed = child.stdio[3] as Writable;
  feed.on('error', () => undefined);
  feed.end(o.feed ?? `0 ${(o.raw ?? new Array(o.channels).fill(0)).join(' ')}\n`);
  child.stdin?.on('error', () => undefined);
  const reader = new LineReader(
    (text) => child.stdin?.write(text, 'latin1'),
    async () => undefined,
  );
  const parser = child.stdout?.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
  parser?.on('data', (line: string) => reader.push(line.endsWith('\r') ? line.slice(0, -1) : line));
  let stderr = '';
  let stats: McuStats | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const line of stderr.split('\n')) {
        if (line.includes('"event":"ready"')) resolve();
        if (line.includes('"event":"exit"')) stats = JSON.parse(line) as McuStats;
      }
    });
    child.once('exit', (code) => reject(new Error(`harness exited with ${code}: ${stderr}`)));
  });
  const proc: McuProc = {
    reader,
    child,
    send: (text) => child.stdin?.write(text, 'latin1'),
    reset: () => child.kill('SIGUSR1'),
    async stop() {
      running.delete(proc);
      if (child.exitCode === null && child.signalCode === null) {
        const closed = once(child, 'close');
        child.kill('SIGTERM');
        await closed;
      }
      if (!stats) throw new Error(`the harness printed no exit line: ${stderr}`);
      return stats;
    },
  };
  running.add(proc);
  await ready;
  return proc;
}

/** Stops every harness a test left running. */
export async function stopAllMcus(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop().catch(() => undefined)));
}
