import { MODEL_DEFAULTS, resolveShelves, ShelfSpec } from '@shelfsense/firmware-sim';
import { isShelfError } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

describe('shelf specs and seeded defaults', () => {
  it('[sim-defaults] generated shelves are realistic: 10–1000 g units, offsets 50k–200k, scale 420 ±10 %', () => {
    const shelves = resolveShelves({ seed: 5, count: 16, lanes: 8 });
    expect(new Set(shelves.map((s) => s.serial)).size).toBe(16);
    for (const s of shelves) {
      expect(s.channels).toBe(8);
      expect(s.model).toEqual(MODEL_DEFAULTS);
      s.lanes.forEach((l, i) => {
        expect(l.channels).toEqual([i]);
        expect(l.unitWeightG).toBeGreaterThanOrEqual(10);
        expect(l.unitWeightG).toBeLessThanOrEqual(1000);
        expect(l.items).toBeLessThanOrEqual(l.capacity);
        expect(l.noiseG).toBe(1);
      });
      for (const c of s.cells) {
        expect(c.offset).toBeGreaterThanOrEqual(50_000);
        expect(c.offset).toBeLessThanOrEqual(200_000);
        expect(c.scale).toBeGreaterThanOrEqual(378);
        expect(c.scale).toBeLessThanOrEqual(462);
      }
    }
  });

  it('[sim-seed] the same seed builds the same shelves; another seed different ones', () => {
    expect(resolveShelves({ seed: 9, count: 3 })).toEqual(resolveShelves({ seed: 9, count: 3 }));
    expect(resolveShelves({ seed: 10, count: 3 })[0]?.serial).not.toBe(
      resolveShelves({ seed: 9, count: 3 })[0]?.serial,
    );
  });

  it('given fields win over drawn ones, and lanes may span several cells', () => {
    const spec = ShelfSpec.parse({
      serial: 'SHELF-1',
      channels: 3,
      lanes: [
        { unitWeightG: 250, items: 7, channels: [0, 1] },
        { channels: [2], noiseG: 2 },
      ],
      cells: [{ offset: 100_000, scale: 400, trayG: 300 }],
      model: { creepFraction: 0 },
    });
    const [s] = resolveShelves({ seed: 1, count: 1, specs: [spec], serials: [] });
    expect(s?.serial).toBe('SHELF-1');
    expect(s?.lanes[0]).toMatchObject({ unitWeightG: 250, items: 7, channels: [0, 1] });
    expect(s?.lanes[1]?.noiseG).toBe(2);
    expect(s?.cells[0]).toEqual({ offset: 100_000, scale: 400, trayG: 300 });
    expect(s?.model.creepFraction).toBe(0);
    expect(s?.model.noiseG).toBe(1);
  });

  it('[sim-validate] a channel used by two lanes or beyond the board is refused, naming the field', () => {
    const spec = ShelfSpec.parse({
      channels: 2,
      lanes: [{ channels: [0] }, { channels: [0] }, { channels: [5] }],
    });
    try {
      resolveShelves({ seed: 1, count: 1, specs: [spec] });
      expect.unreachable();
    } catch (err) {
      expect(isShelfError(err, 'SHELF_ERR_INVALID')).toBe(true);
      const paths = (err as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths).toEqual(['shelves.0.lanes.1.channels', 'shelves.0.lanes.2.channels']);
    }
  });

  it('[sim-validate] duplicate serial numbers are refused', () => {
    expect(() => resolveShelves({ seed: 1, count: 2, serials: ['A', 'A'] })).toThrow(/shelves\.1\.serial/);
  });
});
