/**
 * firmware/sim/build/shelfsense-mcu, the simavr harness that runs the shelf firmware ELF with HX711
 * chips on its pins, proven against its own test firmware (firmware/sim/test-fw/testfw.c): the test
 * firmware bit-bangs the HX711s and prints what it reads ("D <n> <t> <ready> <v0> ..."), echoes
 * what it receives ("E <line>") and obeys one-letter commands (see testfw.c). Both are built here
 * with make; a missing tool fails the suite naming the apt package to install.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  args,
  buildHarnessAndTestFirmware,
  dir,
  feedLines,
  live,
  nth,
  type Read,
  runToExit,
  Sim,
  special,
  stamp,
  UNO4,
} from './harness-helpers.js';

beforeAll(() => buildHarnessAndTestFirmware(), 300_000);

afterEach(async () => {
  await Promise.all(
    [...live].map(async (s) => {
      s.child.kill('SIGKILL');
      await s.exited;
      live.delete(s);
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shelfsense-mcu: simavr harness (with its test firmware)', () => {
  it('[mcu-harness] --help explains the flags and exits 0', async () => {
    const { exit, sim } = await runToExit(['--help']);
    expect(exit.code).toBe(0);
    const text = sim.lines.join('\n');
    for (const flag of [
      '--elf',
      '--mcu',
      '--freq',
      '--channels',
      '--eeprom',
      '--speed',
      '--sck',
      '--rate',
      '--dout',
      '--dead',
    ])
      expect(text).toContain(flag);
  });

  const mega8 = ['atmega2560-mega8', 'atmega2560', 8] as const;
  it.each([
    [[], /--elf is required/],
    [['--elf', join(dir, 'missing.elf'), '--mcu', 'atmega328p', '--channels', '4'], /--elf .*missing\.elf/],
    [args(...UNO4).map((a) => (a === 'atmega328p' ? 'atmega8' : a)), /--mcu atmega8/],
    [args(UNO4[0], UNO4[1], 0), /--channels 0/],
    [args(UNO4[0], UNO4[1], 8), /--channels 8: .*--dout/],
    [args(...UNO4, ['--speed', '-1']), /--speed -1/],
    [args(...UNO4, ['--speed', 'fast']), /--speed fast/],
    [args(...UNO4, ['--freq', '16MHz']), /--freq 16MHz/],
    [args(...UNO4, ['--dout', 'PD4,PD5']), /--dout lists 2 pins but --channels is 4/],
    [args(...UNO4, ['--dout', 'PD4,PD5,PD6,PX9']), /--dout .*PX9/],
    [args(...UNO4, ['--dout', 'PD4,PD5,PD6,PD4']), /--dout PD4: the pin is already used/],
    [args(...UNO4, ['--sck', 'PD1']), /--sck PD1: that is UART0's TX pin/],
    [args(...UNO4, ['--rate', 'PA1']), /--rate PA1: the atmega328p has no port A/],
    [args(...UNO4, ['--dead', '4']), /--dead 4/],
    [args(...UNO4, ['--bogus', '1']), /unknown flag --bogus/],
    [args(...UNO4, ['--eeprom', join(dir, 'no/such/dir/ee.bin')]), /--eeprom .*not writable/],
    [args(mega8[0], 'atmega328p', 4), /--mcu atmega328p/],
  ] as [string[], RegExp][])('[mcu-harness] bad usage %j exits 2 naming the flag', async (argv, message) => {
    const { exit, sim } = await runToExit(argv);
    expect(exit.code).toBe(2);
    const error = sim.events.find((e) => e.event === 'error');
    expect(error, sim.stderr).toBeDefined();
    expect(error?.kind).toBe('usage');
    expect(String(error?.message)).toMatch(message);
    expect(sim.lines).toEqual([]); // stdout carries the UART only
  });

  const CONFIGS = [
    ['atmega328p, 4 channels, default pin map', 'atmega328p-uno4', 'atmega328p', 4, []],
    [
      'atmega328p, 8 channels, --dout map',
      'atmega328p-uno8',
      'atmega328p',
      8,
      ['--dout', 'PD4,PD5,PD6,PD7,PB0,PB1,PB2,PB3'],
    ],
    ['atmega2560, 4 channels, default pin map', 'atmega2560-mega4', 'atmega2560', 4, []],
    ['atmega2560, 8 channels, default pin map', 'atmega2560-mega8', 'atmega2560', 8, []],
  ] as [string, string, string, number, string[]][];

  it.each(CONFIGS)(
    '[mcu-harness] %s: fed counts come back exactly, per channel, at the conversion times of 10 and 80 SPS',
    async (_name, variant, mcu, n, extra) => {
      const sim = new Sim(args(variant, mcu, n, [...extra, '--speed', '0']), { feed: true });
      const ready = await sim.event('ready');
      expect(ready).toMatchObject({ mcu, freq: 16000000, channels: n, feed: 'fd3' });
      const feed = sim.feed as Writable;

      // 10 SPS from power-on (RATE floats: LOW): conversions at exactly 100 ms, 200 ms, ...
      // Timing lines every 100 µs, so a conversion at t reads stamp(t).
      feed.write(feedLines(0, 1_000_000, 100, stamp, n));
      // Then one row of special values per 100 ms window; each window holds exactly one conversion.
      for (let row = 0; row < 8; row++)
        feed.write(
          feedLines(1_050_000 + 100_000 * row, 1_050_000 + 100_000 * row, 1, (_us, c) => special(row, c), n),
        );
      // One more timing line at 1.85 s settles the 1.8 s conversion (row 7). The feed is not closed:
      // the simulation has to wait at the 1.9 s conversion, and says so.
      feed.write(feedLines(1_850_000, 1_850_000, 1, stamp, n));
      // (an earlier wait, before the test wrote the feed, may have been reported too)
      const wait = await sim.event('feed-wait', (e) => e.simUs === 1_900_000);
      expect(wait).toMatchObject({ simUs: 1_900_000, lastFeedUs: 1_850_000 });
      const first = sim.reads();
      expect(first.length).toBe(18); // nothing past what the feed settles
      const boot = await sim.line(/^BOOT /);
      expect(boot.line).toMatch(new RegExp(`^BOOT map=\\w+ ch=${n} boots=1 ee=f{32}$`));
      for (let k = 1; k <= 10; k++) {
        const r = nth(first, k - 1);
        expect(r.n).toBe(k);
        expect(r.ready).toBe((1 << n) - 1);
        expect(r.v).toEqual(Array.from({ length: n }, (_, c) => stamp(100_000 * k, c)));
        // the firmware's own clock agrees: one read per 100 ms (it polls, so within a few µs)
        if (k > 1) expect(Math.abs(r.t - nth(first, k - 2).t - 100_000)).toBeLessThanOrEqual(20);
      }
      for (let row = 0; row < 8; row++)
        expect(nth(first, 10 + row).v).toEqual(Array.from({ length: n }, (_, c) => special(row, c)));
      // simulated time minus the firmware's clock (its boot time), from the reads at 100 ms steps
      const offset = 100_000 - nth(first, 0).t;

      // 80 SPS: the command goes in while the simulation waits, then the feed that lets it go on.
      sim.send('F\n');
      feed.write(feedLines(1_850_100, 2_400_000, 100, stamp, n));
      for (let row = 0; row < 16; row++)
        feed.write(
          feedLines(2_400_001 + 12_500 * row, 2_400_001 + 12_500 * row, 1, (_us, c) => special(row, c), n),
        );
      feed.end(); // after EOF the last line holds

      const f = await sim.line(/^F \d+$/);
      const tF = Number(f.line.split(' ')[1]);
      const isStamp = (r: Read) => Math.abs(nth(r.v, 0)) >= 1_850_000 && Math.abs(nth(r.v, 0)) <= 2_400_000;
      // wait for the timing reads, then the 16 rows and one more
      const all = await sim.until(() => {
        const r = sim.reads();
        const lastStamp = r.findLastIndex((x) => x.index > f.index && isStamp(x));
        return lastStamp >= 0 && r.length - lastStamp - 1 >= 17 ? r : undefined;
      }, 'the 80 SPS reads');
      // the 1.9 s conversion came at 10 SPS, before the RATE change
      expect(nth(all, 18).index).toBeLessThan(f.index);
      expect(nth(all, 18).v).toEqual(Array.from({ length: n }, (_, c) => stamp(1_900_000, c)));
      // after it: the first conversion one period after the change, then every 12.5 ms exactly
      const fast = all.slice(19).filter(isStamp);
      expect(nth(fast, 0)).toBe(nth(all, 19));
      expect(fast.length).toBeGreaterThanOrEqual(38);
      const firstFastSim = nth(nth(fast, 0).v, 0);
      // (the firmware takes a few ms to print the 1.9 s read before it sees the command)
      expect(firstFastSim).toBeGreaterThanOrEqual(1_912_500);
      expect(firstFastSim).toBeLessThanOrEqual(1_912_500 + 5_000);
      expect(firstFastSim - (tF + offset)).toBeGreaterThanOrEqual(12_500 - 400);
      expect(firstFastSim - (tF + offset)).toBeLessThanOrEqual(12_500 + 100);
      expect(nth(fast, 0).t - tF).toBeGreaterThanOrEqual(12_500 - 20);
      expect(nth(fast, 0).t - tF).toBeLessThanOrEqual(12_500 + 400);
      fast.forEach((r, i) => {
        expect(r.v).toEqual(Array.from({ length: n }, (_, c) => stamp(firstFastSim + 12_500 * i, c)));
        if (i > 0) expect(Math.abs(r.t - nth(fast, i - 1).t - 12_500)).toBeLessThanOrEqual(20);
      });
      expect(fast.at(-1)?.v[0]).toBeGreaterThan(2_400_000 - 12_500);
      // special values at 80 SPS: one row per conversion, in order, then the last row holds
      const rows = all.slice(all.indexOf(nth(fast, -1)) + 1);
      for (let row = 0; row < 16; row++)
        expect(nth(rows, row).v, `row ${row}`).toEqual(Array.from({ length: n }, (_, c) => special(row, c)));
      expect(nth(rows, 16).v).toEqual(nth(rows, 15).v);
      for (const r of all) expect(r.ready).toBe((1 << n) - 1);
      expect(all.map((r) => r.n)).toEqual(all.map((_, i) => i + 1)); // no read lost or repeated

      const { exit, stats } = await sim.stop();
      expect(exit.code).toBe(0);
      expect(stats).toMatchObject({ missed: 0, gainErrors: 0, powerDowns: 0, uartRxDropped: 0, uartRx: 2 });
      expect(Number(stats.conversions) - Number(stats.reads)).toBeLessThanOrEqual(1);
      expect(Number(stats.reads)).toBeGreaterThanOrEqual(all.length);
      expect(Number(stats.simUs)).toBeGreaterThan(2_600_000);
    },
  );

  it.each([
    ['atmega328p, --dead 1,3', UNO4[0], UNO4[1], UNO4[2], '1,3', [1, 3]],
    ['atmega2560 8 channels, --dead 7', mega8[0], mega8[1], mega8[2], '7', [7]],
  ] as [string, string, string, number, string, number[]][])(
    '[mcu-harness] %s: a dead channel never reports ready (DOUT stays high)',
    async (_name, variant, mcu, n, dead, deadList) => {
      const sim = new Sim(args(variant, mcu, n, ['--speed', '0', '--dead', dead]));
      expect(await sim.event('ready')).toMatchObject({ dead: deadList });
      const reads = await sim.waitReads(12);
      for (const r of reads)
        for (let c = 0; c < n; c++) {
          const isDead = deadList.includes(c);
          expect((r.ready >> c) & 1).toBe(isDead ? 0 : 1);
          // clocked out while high: all ones, -1 once sign-extended; the live ones read 0 (no feed)
          expect(r.v[c]).toBe(isDead ? -1 : 0);
        }
      const { stats } = await sim.stop();
      expect(Number(stats.conversions)).toBeGreaterThanOrEqual(12);
      expect(stats).toMatchObject({ missed: 0, gainErrors: 0 });
    },
  );

  it('[mcu-harness] SCK high 60 µs powers the chips down; the next conversion comes one period after SCK goes low', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']));
    await sim.waitReads(1);
    // 10 SPS: after the next read the firmware holds SCK high 80 µs
    sim.send('P\n');
    const p1 = await sim.line(/^P \d+$/);
    const tLow1 = Number(p1.line.split(' ')[1]);
    const after1 = nth(await sim.waitReads(1, p1.index + 1), 0);
    expect(after1.t - tLow1).toBeGreaterThanOrEqual(100_000 - 20);
    expect(after1.t - tLow1).toBeLessThanOrEqual(100_000 + 100);

    // 80 SPS: same, one 12.5 ms period
    sim.send('F\n');
    const f = await sim.line(/^F \d+$/);
    await sim.waitReads(2, f.index + 1);
    sim.send('P\n');
    const p2 = await sim.line(/^P \d+$/, f.index + 1);
    const tLow2 = Number(p2.line.split(' ')[1]);
    const after2 = nth(await sim.waitReads(1, p2.index + 1), 0);
    expect(after2.t - tLow2).toBeGreaterThanOrEqual(12_500 - 20);
    expect(after2.t - tLow2).toBeLessThanOrEqual(12_500 + 100);

    // 40 µs high is only a slow clock pulse: no power-down, the conversions keep their schedule
    const lowBefore = nth(await sim.waitReads(1, p2.index + 1), 0);
    sim.send('p\n');
    const p3 = await sim.line(/^p \d+$/, lowBefore.index + 1);
    const before3 = nth(sim.reads(p3.index - 1), 0);
    const after3 = nth(await sim.waitReads(1, p3.index + 1), 0);
    expect(after3.t - before3.t).toBeGreaterThanOrEqual(12_500 - 20);
    expect(after3.t - before3.t).toBeLessThanOrEqual(12_500 + 20);

    const { stats } = await sim.stop();
    // the 40 µs pulse after a read is a 26th pulse (a gain error); the 80 µs ones are power-downs
    expect(stats).toMatchObject({ powerDowns: 2, missed: 0, gainErrors: 1 });
  });

  it('[mcu-harness] unread conversions count as missed; 26 and 27 pulses count as gain errors', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']));
    await sim.waitReads(1);
    sim.send('F\n');
    const f = await sim.line(/^F \d+$/);
    await sim.waitReads(1, f.index + 1);
    sim.send('H\n'); // stop reading for 300 ms after the next read: ~24 conversions at 80 SPS
    const h = await sim.line(/^H \d+$/);
    await sim.waitReads(1, h.index + 1);
    sim.send('G\n');
    const g = await sim.line(/^X \d+ 26$/, h.index + 1);
    sim.send('K\n');
    const k = await sim.line(/^X \d+ 27$/, g.index + 1);
    // the reads with extra pulses, and the ones after, still come out right
    const after = await sim.waitReads(2, k.index + 1);
    for (const r of [...sim.reads(h.index + 1)]) expect(r.v).toEqual([0, 0, 0, 0]);
    expect(nth(after, 0).n).toBe(Number(k.line.split(' ')[1]) + 1);
    const { stats } = await sim.stop();
    expect(Number(stats.missed)).toBeGreaterThanOrEqual(20);
    expect(Number(stats.missed)).toBeLessThanOrEqual(25);
    expect(stats).toMatchObject({ gainErrors: 2, powerDowns: 0 });
  });

  it('[mcu-harness] bytes written to stdin reach the MCU, none lost, in order', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']));
    await sim.line(/^BOOT /);
    sim.send('hello, shelf\n');
    await sim.line(/^E hello, shelf$/);
    // a burst far larger than the UART's FIFO, in one write
    const burst = Array.from(
      { length: 40 },
      (_, i) => `line ${String(i).padStart(2, '0')} abcdefghijklmnopqrstuvwxyz`,
    );
    sim.send(`${burst.join('\n')}\n`);
    const last = await sim.line(/^E line 39 /);
    const echoed = sim.lines.slice(0, last.index + 1).filter((l) => l.startsWith('E line '));
    expect(echoed).toEqual(burst.map((l) => `E ${l}`));
    const { stats } = await sim.stop();
    expect(stats).toMatchObject({
      uartRx: 'hello, shelf\n'.length + burst.join('\n').length + 1,
      uartRxDropped: 0,
    });
  });

  it('[mcu-harness] EEPROM written by the MCU survives an exit and a restart with --eeprom', async () => {
    const file = join(dir, 'ee-restart.bin');
    const first = new Sim(args(...UNO4, ['--speed', '0', '--eeprom', file]));
    expect((await first.line(/^BOOT /)).line).toMatch(/ ee=f{32}$/);
    first.send('Whello shelf\n');
    await first.line(/^W ok$/);
    const { exit, stats } = await first.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(stats.code).toBe(0);
    const image = readFileSync(file);
    expect(image.length).toBe(1024);
    expect(image.subarray(0, 12).toString('latin1')).toBe('hello shelf\0');
    expect([...image.subarray(12)].every((b) => b === 0xff)).toBe(true);

    const second = new Sim(args(...UNO4, ['--speed', '0', '--eeprom', file]));
    const boot = await second.line(/^BOOT /);
    expect(boot.line).toMatch(/ ee=68656c6c6f207368656c6600ffffffff$/);
    expect((await second.stop('SIGINT')).exit.code).toBe(0);
  });

  it('[mcu-harness] SIGUSR1 reboots the MCU: RAM cleared, EEPROM kept and saved; a watchdog reset reboots too', async () => {
    const file = join(dir, 'ee-reboot.bin');
    const sim = new Sim(args(...UNO4, ['--speed', '0', '--eeprom', file]));
    await sim.line(/^BOOT .*boots=1 /);
    sim.send('Wfirst\n');
    const w = await sim.line(/^W ok$/);
    sim.child.kill('SIGUSR1');
    const boot2 = await sim.line(/^BOOT /, w.index + 1);
    // boots lives in .noinit: 1 again means the RAM was cleared
    expect(boot2.line).toMatch(/ boots=1 ee=666972737400f{20}$/);
    await sim.event('reset', (e) => e.reason === 'signal');
    expect(readFileSync(file).subarray(0, 6).toString('latin1')).toBe('first\0');
    // reads and the UART work after the reboot
    const r = nth(await sim.waitReads(1, boot2.index + 1), 0);
    expect(r.n).toBe(1);
    sim.send('after reboot\n');
    await sim.line(/^E after reboot$/, boot2.index + 1);

    sim.send('R\n'); // the firmware lets the watchdog bite
    const boot3 = await sim.line(/^BOOT /, boot2.index + 1);
    expect(boot3.line).toMatch(/ boots=2 ee=666972737400/); // a watchdog reset keeps the RAM
    await sim.event('reset', (e) => e.reason === 'watchdog');
    await sim.waitReads(1, boot3.index + 1);
    const { exit, stats } = await sim.stop();
    expect(exit.code).toBe(0);
    expect(stats).toMatchObject({ resets: 2, uartRxDropped: 0 });
  });

  it('[mcu-harness] --speed 1 keeps simulated time with the wall clock', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '1']));
    await sim.event('ready');
    const t0 = performance.now();
    // 10 SPS: read 20 is the conversion at 2.0 s of simulated time
    await sim.waitReads(20, 0, 10_000);
    const wall = (performance.now() - t0) / 1000;
    expect(wall / 2.0).toBeGreaterThan(0.8);
    expect(wall / 2.0).toBeLessThan(1.25);
    const t1 = performance.now();
    const { stats } = await sim.stop();
    const ratio = Number(stats.simUs) / 1000 / (t1 - t0);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
  });

  it('[mcu-harness] --speed 0 runs faster than the wall clock', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']));
    await sim.event('ready');
    const t0 = performance.now();
    await sim.waitReads(15, 0, 10_000); // 1.5 s of simulated time
    const wall = performance.now() - t0;
    const { stats } = await sim.stop();
    expect(Number(stats.simUs) / 1000).toBeGreaterThan(wall);
  });

  it('[mcu-harness] a malformed feed line exits 2 naming the line', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']), { feed: true });
    sim.feed?.write('0 1 2 3 4\n100 1 2 3\n');
    const timer = setTimeout(() => sim.child.kill('SIGKILL'), 10_000);
    const exit = await sim.exited;
    clearTimeout(timer);
    expect(exit.code).toBe(2);
    const error = sim.events.find((e) => e.event === 'error');
    expect(error).toMatchObject({ kind: 'feed' });
    expect(String(error?.message)).toMatch(/line 2: 3 raw counts, expected 4/);
  });

  it('[mcu-harness] an MCU that stops for good exits 1 with an error and the exit statistics', async () => {
    const sim = new Sim(args(...UNO4, ['--speed', '0']));
    await sim.line(/^BOOT /);
    sim.send('Z\n'); // cli; sleep
    const timer = setTimeout(() => sim.child.kill('SIGKILL'), 10_000);
    const exit = await sim.exited;
    clearTimeout(timer);
    expect(exit.code).toBe(1);
    expect(sim.events.find((e) => e.event === 'error')).toMatchObject({ kind: 'crash' });
    expect(sim.events.at(-1)).toMatchObject({ event: 'exit', code: 1 });
  });
});
