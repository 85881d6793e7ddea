/**
 * Protocol v1.1 from the flashed firmware: the Uno image reads the ATmega328P's own temperature
 * sensor (ADC channel 8, 1.1 V reference) in simavr, whose die temperature the harness sets, and
 * sends it once a second as the `T` field the host's decoder reads; the Mega image, whose chip has
 * no sensor, sends v1 frames.
 */
import type { SampleFrame } from '@shelfsense/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFirmware, buildHarness, type McuProc, startMcu, stopAllMcus } from '../../helpers/mcu.js';

let uno: string;
let mega: string;

beforeAll(() => {
  buildHarness();
  uno = buildFirmware('uno', 4);
  mega = buildFirmware('mega', 8);
}, 600_000);

afterEach(async () => {
  await stopAllMcus();
});

/** Every sample frame up to device time `ms`. */
async function framesUntil(mcu: McuProc, ms: number): Promise<SampleFrame[]> {
  await mcu.reader.waitFor(
    (x) => x.frame?.type === 'sample' && (x.frame as SampleFrame).deviceMs >= ms,
    60_000,
    0,
    `a frame at ${ms} ms`,
  );
  expect(mcu.reader.received.filter((x) => x.error)).toEqual([]);
  return mcu.reader.received.filter((x) => x.frame?.type === 'sample').map((x) => x.frame as SampleFrame);
}

describe('the flashed firmware sends the shelf temperature (protocol v1.1)', () => {
  it.each([23.5, -10, 60])(
    '[FW-TEMP] an Uno whose die is at %d °C sends it once a second as the T field, within the sensor’s accuracy',
    async (tempC) => {
      const raw = [100, -200, 300, 8388607];
      const mcu = await startMcu({ elf: uno, mcu: 'atmega328p', channels: 4, raw, speed: 0, tempC });
      const frames = await framesUntil(mcu, 4500);
      const withT = frames.filter((f) => f.tempC !== undefined);
      // The first reading a second after boot, then one a second, each on a single frame.
      expect(withT.length).toBe(4);
      withT.forEach((f, i) => {
        expect(f.deviceMs).toBeGreaterThanOrEqual(1000 * (i + 1));
        expect(f.deviceMs).toBeLessThan(1000 * (i + 1) + 100);
        expect(f.raw).toEqual(raw); // T is not a channel
        // One ADC step is ~1 °C, and the typical curve is the firmware's and the harness's both.
        expect(Math.abs((f.tempC as number) - tempC)).toBeLessThanOrEqual(1.5);
      });
      expect(frames.filter((f) => f.tempC === undefined).length).toBeGreaterThan(300);
    },
    120_000,
  );

  it('[FW-TEMP] a temperature on the raw feed moves the die while the firmware runs', async () => {
    // 20 °C from boot, 30 °C from 1.5 s of simulated time.
    const feed = '0 1 2 3 4 T2000\n1500000 1 2 3 4 T3000\n';
    const mcu = await startMcu({ elf: uno, mcu: 'atmega328p', channels: 4, speed: 0, feed });
    const temps = (await framesUntil(mcu, 4500)).flatMap((f) => (f.tempC === undefined ? [] : [f.tempC]));
    expect(temps).toHaveLength(4);
    expect(Math.abs((temps[0] as number) - 20)).toBeLessThanOrEqual(1.5);
    for (const t of temps.slice(2)) expect(Math.abs(t - 30)).toBeLessThanOrEqual(1.5);
  }, 120_000);

  it('[FW-TEMP] an Uno whose sensor reads nothing sensible, and a Mega, send v1 frames', async () => {
    const u = await startMcu({ elf: uno, mcu: 'atmega328p', channels: 4, speed: 0 });
    expect((await framesUntil(u, 3500)).filter((f) => f.tempC !== undefined)).toEqual([]);
    await u.stop();
    const m = await startMcu({ elf: mega, mcu: 'atmega2560', channels: 8, speed: 0 });
    expect((await framesUntil(m, 3500)).filter((f) => f.tempC !== undefined)).toEqual([]);
  }, 120_000);
});
