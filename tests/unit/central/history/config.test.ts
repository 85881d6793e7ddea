/**
 * The history section of the central config: defaults, durations, and errors that name the field.
 */
import { HistoryConfig, isShelfError, parseWith } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

function refused(input: unknown): string[] {
  try {
    parseWith(HistoryConfig, input, 'history config');
  } catch (err) {
    if (isShelfError(err, 'SHELF_ERR_INVALID')) return err.issues.map((i) => i.path);
    throw err;
  }
  return [];
}

describe('history config', () => {
  it('[HIST-CONFIG] defaults: SQLite, and InfluxDB settings ready to switch on', () => {
    const c = HistoryConfig.parse({});
    expect(c.store).toBe('sqlite');
    expect(c.influx).toMatchObject({
      host: '127.0.0.1',
      port: 8086,
      database: 'shelfsense',
      setup: false,
      retention: 90 * 86_400_000,
      batchSize: 1_000,
      flushMs: 1_000,
      bufferLimit: 100_000,
      retry: { initialMs: 500, maxMs: 30_000 },
      levels: 'all',
    });
    // Unset: the database's default retention policy.
    expect(c.influx.retentionPolicy).toBeUndefined();
  });

  it('[HIST-CONFIG] durations accept units down to milliseconds; 0 keeps history forever', () => {
    const c = HistoryConfig.parse({
      store: 'influx',
      influx: {
        retention: '30d',
        flushMs: '250ms',
        retry: { initialMs: '50ms', maxMs: '2s' },
        levelIntervalMs: '5m',
      },
    });
    expect(c.influx.retention).toBe(30 * 86_400_000);
    expect(c.influx.flushMs).toBe(250);
    expect(c.influx.retry).toEqual({ initialMs: 50, maxMs: 2_000 });
    expect(c.influx.levelIntervalMs).toBe(300_000);
    expect(HistoryConfig.parse({ influx: { retention: 0 } }).influx.retention).toBe(0);
  });

  it('[HIST-CONFIG] bad values are refused naming the field', () => {
    expect(refused({ store: 'mysql' })).toEqual(['store']);
    expect(refused({ influx: { retention: '30m' } })).toEqual(['influx.retention']);
    expect(refused({ influx: { port: 70_000 } })).toEqual(['influx.port']);
    expect(refused({ influx: { database: 'bad name"' } })).toEqual(['influx.database']);
    expect(refused({ influx: { batchSize: 0 } })).toEqual(['influx.batchSize']);
    expect(refused({ influx: { bufferLimit: -1 } })).toEqual(['influx.bufferLimit']);
    expect(refused({ influx: { passwordFile: '/run/secrets/influx' } })).toEqual(['influx.username']);
    expect(refused({ influx: { retry: { initialMs: 5_000, maxMs: 1_000 } } })).toEqual([
      'influx.retry.maxMs',
    ]);
    expect(refused({ influx: { hostname: 'x' } })).toEqual(['influx']);
  });
});
