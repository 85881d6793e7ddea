/**
 * Fault: `kill -9` of `shelfsense config apply` while it applies a catalogue of a few thousand lanes
 * that moves every large-site lane to another SKU, and so cancels one open order per shelf. Killed
 * inside the transaction (held open before its commit by the SHELFSENSE_TEST_APPLY_PAUSE_MS test
 * hook) and at staggered moments from its start, the store holds the old catalogue with every
 * order open, or the new one with every order cancelled (reason, order event and webhook outbox
 * row each), never a mix; and a run left alone ends with the new one.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ensureCatalogue } from '@shelfsense/central/catalogue';
import { OrderService } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import { type Catalogue, CentralConfig, type OrderEvent } from '@shelfsense/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { scale } from '../helpers/faults-figures.js';
import { killAll, spawnCli } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { large } from '../unit/central/catalogue/fixtures.js';

const LANES = scale(3_000, 10_000);
const SHELVES = LANES / 8;

let dir: string;
let golden: string;
let before: Catalogue;
let after: Catalogue;
let nextFile: string;
let trials = 0;

/** A central.yaml of the old catalogue whose store is a fresh copy of the seeded one. */
function trial(): { yaml: string; db: string } {
  const at = join(dir, `trial-${++trials}`);
  const db = join(at, 'central.db');
  const yaml = join(dir, `central-${trials}.yaml`);
  writeFileSync(yaml, stringify({ dataDir: at, ingest: { storeFile: db }, ...before }));
  mkdirSync(at);
  // After a clean close the WAL is folded into the file; copy it too if it is not.
  copyFileSync(golden, db);
  if (existsSync(`${golden}-wal`)) copyFileSync(`${golden}-wal`, `${db}-wal`);
  return { yaml, db };
}

type Outcome = 'old' | 'new';

/** Which catalogue the store holds — failing the test if it holds any mix of the two. */
function outcome(db: string): Outcome {
  const store = Store.open({ file: db });
  try {
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const version = store.catalogue.version();
    const current = store.catalogue.current();
    const orders = store.orders.list({ limit: 100_000 });
    const cancelled = orders.filter((o) => o.state === 'cancelled');
    const reasons = orders.filter((o) => store.catalogue.cancellation(o.id)).length;
    const cancelEvents = store.outbox
      .list({ limit: 100_000 })
      .filter((e) => (JSON.parse(e.body) as OrderEvent).state === 'cancelled').length;
    expect(orders).toHaveLength(SHELVES);
    const seen = {
      version,
      history: store.catalogue.history().length,
      cancelled: cancelled.length,
      reasons,
      cancelEvents,
    };
    if (version === 1) {
      expect(isDeepStrictEqual(current?.catalogue, before), 'version 1 holds the old catalogue').toBe(true);
      expect(seen).toEqual({ version: 1, history: 1, cancelled: 0, reasons: 0, cancelEvents: 0 });
      return 'old';
    }
    expect(isDeepStrictEqual(current?.catalogue, after), 'version 2 holds the new catalogue').toBe(true);
    expect(seen).toEqual({
      version: 2,
      history: 2,
      cancelled: SHELVES,
      reasons: SHELVES,
      cancelEvents: SHELVES,
    });
    return 'new';
  } finally {
    store.close();
  }
}

const apply = (yaml: string, env: NodeJS.ProcessEnv = {}) =>
  spawnCli('cli/dist/main.js', ['config', 'apply', nextFile, '--config', yaml, '--actor', 'fault'], { env });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-catalogue-fault-'));
  before = large(LANES);
  after = large(LANES, 'fanta-330');
  nextFile = join(dir, 'next.yaml');
  writeFileSync(nextFile, stringify(after));
  golden = join(dir, 'golden', 'central.db');
  const store = Store.open({ file: golden });
  try {
    ensureCatalogue(store, CentralConfig.parse({ dataDir: dir, ...before }));
    const orders = new OrderService(store);
    store.transaction(() => {
      for (let s = 0; s < SHELVES; s++) {
        orders.openForLane({
          site: 'store-big',
          shelf: `big-${s}`,
          lane: 'L0',
          sku: 'cola-330',
          supplier: 'acme',
          quantity: 6,
          reason: { trigger: 'rules' },
        });
      }
    });
  } finally {
    store.close();
  }
}, 60_000);

afterEach(async () => {
  await killAll();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`[old or new, never a mix] kill -9 during an apply of ${LANES} lanes`, () => {
  it('killed inside the transaction, before its commit: the old catalogue, every order open', async () => {
    const t = trial();
    const p = apply(t.yaml, { SHELFSENSE_TEST_APPLY_PAUSE_MS: '60000' });
    await waitFor(() => p.stderr().includes('test hook: holding the apply transaction open'), 30_000, {
      what: 'the apply to reach its commit',
    });
    const exit = await p.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    expect(outcome(t.db)).toBe('old');
  }, 60_000);

  it('killed at staggered moments from its start: each time the old catalogue or the new one whole', async () => {
    // outcome() fails the test on any mix; which of the two each kill leaves depends on timing.
    // A short hold before the commit widens the window in which a kill lands inside the transaction.
    const seen: Outcome[] = [];
    for (const ms of [300, 600, 900, 1_200, 1_500, 1_800, 2_400]) {
      const t = trial();
      const p = apply(t.yaml, { SHELFSENSE_TEST_APPLY_PAUSE_MS: '500' });
      await new Promise((r) => setTimeout(r, ms));
      await p.kill('SIGKILL');
      seen.push(outcome(t.db));
    }
    expect(seen).toHaveLength(7);
  }, 120_000);

  it('left alone, it ends with the new catalogue, every affected order cancelled with its reason', async () => {
    const t = trial();
    const started = Date.now();
    const p = apply(t.yaml);
    const exit = await p.exited;
    expect(exit.code, p.stderr()).toBe(0);
    expect(p.lines.join('\n')).toContain(`${SHELVES} open orders cancelled`);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(outcome(t.db)).toBe('new');
  }, 60_000);
});
