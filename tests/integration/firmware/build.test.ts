/**
 * The firmware builds as a technician builds it (firmware/Makefile): the Mega and Uno images with
 * avr-gcc and the Arduino AVR core, the portable core for Cortex-M, each within its chip's flash
 * and RAM with room for the stack, reporting the version it was built with. Wrong settings stop
 * the build with a message that names the setting. A missing tool fails with the apt package.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);
const FIRMWARE = join(ROOT, 'firmware');
const BUILD_MS = 600_000;

interface Made {
  code: number;
  out: string;
}

/** `make -C firmware ARGS`; never throws, so a failure shows make's own message. */
async function make(...args: string[]): Promise<Made> {
  try {
    const r = await run('make', ['-C', FIRMWARE, '-j2', ...args], { timeout: BUILD_MS, maxBuffer: 1 << 24 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    const code = typeof e.code === 'number' ? e.code : -1;
    return {
      code,
      out: `${e.stdout ?? ''}${e.stderr ?? ''}` || `${e.message} (is make installed? apt-get install make)`,
    };
  }
}

/** avr-size -A: flash is what is programmed (.text + .data), RAM what is reserved at boot. */
async function sizes(elf: string): Promise<{ flash: number; ram: number }> {
  const { stdout } = await run('avr-size', ['-A', elf]);
  const section = (name: string) => Number(stdout.match(new RegExp(`^\\${name}\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  return {
    flash: section('.text') + section('.data'),
    ram: section('.data') + section('.bss') + section('.noinit'),
  };
}

/** The bytes of the ELF's .data section: the initial RAM image, version string included. */
async function dataSection(elf: string): Promise<string> {
  const bin = `${elf}.data.bin`;
  await run('avr-objcopy', ['-O', 'binary', '-j', '.data', elf, bin]);
  const bytes = readFileSync(bin).toString('latin1');
  rmSync(bin, { force: true });
  return bytes;
}

// The chips' limits, the bootloader's part of the flash excluded, and what is kept free for the
// stack (interrupts, the deepest loop call chain, a margin): 512 bytes of the 328P's 2 KB, 1 KB
// of the 2560's 8 KB.
const BOARDS = [
  { board: 'mega', mcu: 'ATmega2560', flash: 253_952, ram: 8192, stack: 1024, channels: 8 },
  { board: 'uno', mcu: 'ATmega328P', flash: 32_256, ram: 2048, stack: 512, channels: 4 },
] as const;

// A version unique to this run builds into its own directory, so concurrent runs never share it.
const VERSION = `2.0.0-rc${process.pid}`;
const versionDir = join(FIRMWARE, `build/uno-2ch-v${VERSION}`);
afterAll(() => rmSync(versionDir, { recursive: true, force: true }));

describe('firmware builds (firmware/Makefile)', () => {
  it.each(BOARDS)(
    '[FW-BUILD] make $board: an $mcu image of $channels channels that fits flash and RAM with room for the stack',
    async ({ board, flash, ram, stack, channels }) => {
      const made = await make(board);
      expect(made.code, made.out).toBe(0);
      const elf = join(FIRMWARE, 'build', board, 'shelfsense.elf');
      const used = await sizes(elf);
      expect(used.flash, `flash: ${used.flash} of ${flash} bytes`).toBeLessThanOrEqual(flash);
      expect(used.ram, `RAM: ${used.ram} of ${ram} bytes, ${stack} kept for the stack`).toBeLessThanOrEqual(
        ram - stack,
      );
      expect(made.out).toContain(`${channels} channels, 80 SPS, version 1.0.0`);
      expect(readFileSync(join(FIRMWARE, 'build', board, 'shelfsense.hex'), 'latin1')).toMatch(
        /^:[0-9A-F]+\r?\n/,
      );
    },
    BUILD_MS,
  );

  it.each(BOARDS)(
    '[FW-BUILD] the $board ELF carries version 1.0.0 as the symbol kFirmwareVersion and in its RAM image',
    async ({ board }) => {
      expect((await make(board)).code).toBe(0);
      const elf = join(FIRMWARE, 'build', board, 'shelfsense.elf');
      const { stdout } = await run('avr-nm', ['-C', elf]);
      expect(stdout).toMatch(/ shelfsense::kFirmwareVersion$/m);
      expect(await dataSection(elf)).toContain('1.0.0\0');
    },
    BUILD_MS,
  );

  it(
    '[FW-BUILD] settings reach the image: two makes at once of FIRMWARE_VERSION=… CHANNELS=2 build it once, in its own directory',
    async () => {
      rmSync(versionDir, { recursive: true, force: true });
      const args = ['uno', 'CHANNELS=2', `FIRMWARE_VERSION=${VERSION}`];
      const [a, b] = await Promise.all([make(...args), make(...args)]);
      expect(a.code, a.out).toBe(0);
      expect(b.code, b.out).toBe(0);
      const elf = join(versionDir, 'shelfsense.elf');
      const data = await dataSection(elf);
      expect(data).toContain(`${VERSION}\0`);
      expect(data).not.toContain('1.0.0\0');
      expect(a.out + b.out).toContain(`2 channels, 80 SPS, version ${VERSION}`);
    },
    BUILD_MS,
  );

  it('[FW-BUILD] make mega CHANNELS=9 fails before compiling, saying the Mega takes 1 to 8 channels', async () => {
    const made = await make('mega', 'CHANNELS=9');
    expect(made.code).not.toBe(0);
    expect(made.out).toMatch(/CHANNELS=9 is not possible on mega: 1 to 8 channels, one HX711 DOUT pin each/);
    expect(made.out).not.toMatch(/avr-g\+\+/);
  });

  it.each([
    [['uno', 'CHANNELS=5'], /CHANNELS=5 is not possible on uno: 1 to 4 channels/],
    [['mega', 'DEFAULT_RATE=40'], /DEFAULT_RATE=40 must be 10 or 80/],
    [
      ['nano', 'FIRMWARE_VERSION=1.0 beta'],
      /FIRMWARE_VERSION=1\.0 beta must be 1 to 24 of A-Z a-z 0-9 \. \+ _ -/,
    ],
  ])('[FW-BUILD] make %j is refused naming the setting', async (args, message) => {
    const made = await make(...args);
    expect(made.code).not.toBe(0);
    expect(made.out).toMatch(message);
  });

  it(
    '[FW-BUILD] make arm-core: the portable core compiles freestanding for Cortex-M0+ and M4 and links with libgcc alone',
    async () => {
      const made = await make('arm-core');
      expect(made.code, made.out).toBe(0);
      for (const cpu of ['cortex-m0plus', 'cortex-m4']) {
        const elf = join(FIRMWARE, 'build/arm', cpu, 'core-probe.elf');
        const { stdout } = await run('arm-none-eabi-readelf', ['-h', elf]);
        expect(stdout).toMatch(/Machine:\s+ARM/);
        const { stdout: undefinedSymbols } = await run('arm-none-eabi-nm', ['-u', elf]);
        expect(undefinedSymbols.trim(), `${cpu}: undefined symbols`).toBe('');
      }
    },
    BUILD_MS,
  );
});
