/**
 * The agent bundle's stand-ins for `lru-cache` and `debug` (agent/scripts/lean/) against the real
 * packages: the same answers for everything mqtt.js, mqtt-packet and serialport ask of them.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { LRUCache as RealLru } from 'lru-cache';
import { afterEach, describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);
const { LRUCache } = require('../../../agent/scripts/lean/lru-cache.cjs') as { LRUCache: typeof RealLru };
type Debug = ((
  ns: string,
) => ((...a: unknown[]) => void) & { enabled: boolean; extend(s: string): { namespace: string } }) & {
  enable(spec: string): void;
  disable(): void;
  enabled(ns: string): boolean;
};
const leanDebug = require('../../../agent/scripts/lean/debug.cjs') as Debug;
const realDebug = require('debug') as Debug;

type Op =
  | { op: 'get' | 'has' | 'delete'; key: number }
  | { op: 'set'; key: number; value: number }
  | { op: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const),
    key: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 7 }), value: fc.integer() }),
  fc.record({ op: fc.constant('clear' as const) }),
);

describe('lean lru-cache', () => {
  it('[lean-lru] answers every get, has, set, delete and clear as lru-cache does, keys in the same order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const lean = new LRUCache<number, number>({ max });
        const real = new RealLru<number, number>({ max });
        for (const o of ops) {
          if (o.op === 'set') {
            lean.set(o.key, o.value);
            real.set(o.key, o.value);
          } else if (o.op === 'clear') {
            lean.clear();
            real.clear();
          } else expect(lean[o.op](o.key)).toEqual(real[o.op](o.key));
          expect(lean.size).toBe(real.size);
          expect([...lean.keys()]).toEqual([...real.keys()]);
        }
      }),
    );
  });

  it('[lean-lru] refuses a cache without a positive max', () => {
    expect(() => new LRUCache({ max: 0 })).toThrow(/max/);
  });
});

describe('lean debug', () => {
  afterEach(() => {
    leanDebug.disable();
    realDebug.disable();
    vi.restoreAllMocks();
  });

  it('[lean-debug] switches on the namespaces DEBUG names, as debug does', () => {
    const specs = [
      '',
      '*',
      'mqttjs*',
      'mqttjs:client',
      '*,-mqtt-packet:*',
      'mqtt-packet:parser serialport/stream',
      'a*b',
    ];
    const names = [
      'mqttjs:client',
      'mqttjs',
      'mqtt-packet:parser',
      'mqtt-packet:writeToStream',
      'serialport/stream',
      'axb',
    ];
    for (const spec of specs) {
      leanDebug.enable(spec);
      realDebug.enable(spec);
      for (const ns of names)
        expect([spec, ns, leanDebug.enabled(ns)]).toEqual([spec, ns, realDebug.enabled(ns)]);
    }
  });

  it('[lean-debug] an enabled logger writes its namespace and formatted message to stderr; a disabled one nothing', () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    leanDebug.enable('mqttjs:*');
    const on = leanDebug('mqttjs:client');
    const off = leanDebug('mqtt-packet:parser');
    expect(on.enabled).toBe(true);
    expect(off.enabled).toBe(false);
    on('connecting to %s, attempt %d', 'mqtt://pi', 3);
    off('never %s', 'shown');
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/ mqttjs:client connecting to mqtt:\/\/pi, attempt 3\n$/);
    expect(on.extend('store').namespace).toBe('mqttjs:client:store');
  });
});
