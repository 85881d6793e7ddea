/**
 * A caller whose transaction rolled back what the engine did (a cluster worker's failed batch)
 * stops the engine without writing its cached lane state; a plain stop writes what is waiting.
 * The store is a real SQLite file whose rule-state write fails once, as a commit that failed would.
 */
import { OrderService } from '@shelfsense/central/orders';
import { RulesEngine } from '@shelfsense/central/rules';
import { type CentralStore, Store } from '@shelfsense/central/store';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, levelReading, type TempDir, tempDir } from '../store/fixtures.js';
import { L1, T0 } from './harness.js';

describe('rules engine stop', () => {
  let tmp: TempDir;
  let store: Store;
  beforeEach(() => {
    tmp = tempDir('shelfsense-rules-stop-');
    store = Store.open(tmp.file());
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  /** An engine whose first rule-state write fails, fed one level that leaves its lane state waiting. */
  const waitingEngine = () => {
    let fail = true;
    const failing: CentralStore = Object.create(store, {
      ruleState: {
        value: {
          load: store.ruleState.load.bind(store.ruleState),
          saveAll: (rows: Parameters<Store['ruleState']['saveAll']>[0], now: number) => {
            if (fail) {
              fail = false;
              throw new Error('the commit failed');
            }
            store.ruleState.saveAll(rows, now);
          },
        },
      },
    });
    const engine = new RulesEngine({
      store: failing,
      orders: new OrderService(store),
      config: ReplenishmentConfig.parse({ defaults: { reorderPoint: 4 } }),
      lanes: [L1],
      clock: () => T0,
    });
    const r = store.readings.commit([levelReading(1, 10, T0)], T0);
    expect(() => engine.onReadings(r.accepted)).toThrow('the commit failed');
    return engine;
  };

  it('{ flush: false } drops the state a rolled-back batch left waiting', () => {
    waitingEngine().stop({ flush: false });
    expect(store.ruleState.load(LANE)).toBeUndefined();
  });

  it('a plain stop writes it', () => {
    waitingEngine().stop();
    expect(JSON.parse(store.ruleState.load(LANE) ?? 'null')).toMatchObject({ units: 10 });
  });
});
