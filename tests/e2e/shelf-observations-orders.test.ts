/**
 * What is on the shelf besides its items, end to end, against replenishment: simulator (socat pty,
 * seeded) → the real Agent → the compiled central process (aedes + ingest + rules + SQLite). Every
 * lane's reorder point sits one item below its count and orders without debounce, so a count that
 * falsely drops by even one item orders. On the shelf, one after another: a hand, a lasting lean, a
 * foreign object put down and lifted, another lane's item put back on the wrong lane, a cell
 * unplugged while an item is taken (tamper), a SKU swapped for heavier items without telling the
 * agent. Each scenario's observation and alert reach central, each defined count equals the
 * simulator's truth, and no order opens unless the truth has been at or below the lane's reorder
 * point (the SKU swap empties its lane first: that one is a real need). The control at the end — a
 * real pick to the reorder point — opens exactly one order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralAgentConfig, simControl } from '../helpers/agent.js';
import { addUser, type CentralProcess, startCentral } from '../helpers/central.js';
import { killAll } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const SERIAL = 'SHELF-OBS';
const SEED = 23;
/** 125 g, 42 g and 73 g items: none a whole count of another's. */
const UNITS = [125, 42, 73];
const ITEMS = [12, 20, 10];
const CAPACITY = [20, 40, 20];
/** One item below each lane's count: a false drop of one item is a need. */
const ROP = ITEMS.map((n) => n - 1);
const LANE = (i: number) => `L${i}`;

interface Order {
  id: string;
  lane: string;
  state: string;
  quantity: number;
  createdAt: number;
}
interface Observation {
  id: string;
  observation: string;
  lane: string;
  kind: string;
  state: 'open' | 'cleared';
  grams: number;
  items: number | null;
  otherLane: string | null;
  cause: string | null;
  proposal: { unitWeightG: number; wrong: boolean; steps: number } | null;
}
interface Alert {
  id: string;
  kind: string;
  state: string;
  lane: string;
}
interface LaneView {
  units: number | null;
  stable: boolean | null;
  state: string | null;
  status: string;
  reorderPoint: number | null;
}

describe('[no false orders] what is on the shelf, end to end with replenishment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observe-orders-e2e-'));
  let central: CentralProcess;
  let sim: Simulator;
  let agent: Agent;
  let admin: string;
  /** Orders seen so far, each with whether the truth had been at or below its reorder point then. */
  const seen = new Map<string, { order: Order; needed: boolean }>();

  const get = async <T>(path: string): Promise<T> => {
    const r = await central.api(path, admin);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const lane = (i: number) => get<LaneView>(`/api/lanes/store-1/shelf-1/${LANE(i)}`);
  const truth = (i: number) => sim.truth(SERIAL).lanes[i]?.items as number;
  /** Whether any truth record so far had the lane at or below its reorder point. */
  const everNeeded = (i: number) =>
    sim.groundTruth
      .states(SERIAL)
      .some((s) => (s.lanes[i]?.items ?? Number.POSITIVE_INFINITY) <= (ROP[i] as number));
  /** Reads the orders; each new one is judged against the truth's history up to now. */
  const orders = async (): Promise<Order[]> => {
    const all = await get<Order[]>('/api/orders');
    for (const o of all) {
      if (!seen.has(o.id)) seen.set(o.id, { order: o, needed: everNeeded(Number(o.lane.slice(1))) });
    }
    return all;
  };
  const falseOrders = async () =>
    (await orders())
      .filter((o) => !seen.get(o.id)?.needed)
      .map((o) => `${o.lane} ${o.quantity} at ${o.createdAt}`);
  const observations = (kind: string) => get<Observation[]>(`/api/observations?kind=${kind}&limit=100`);
  const observed = (kind: string, i: number, state: 'open' | 'cleared', after?: Observation) =>
    waitFor(
      async () =>
        (await observations(kind)).find(
          (o) => o.lane === LANE(i) && o.state === state && (!after || o.observation === after.observation),
        ),
      20_000,
      { what: `${kind} ${state} on ${LANE(i)} stored by central` },
    );
  const alert = (kind: string, i: number, state: string) =>
    waitFor(
      async () =>
        (await get<Alert[]>(`/api/alerts?state=${state}&kind=${kind}`)).find((a) => a.lane === LANE(i)),
      20_000,
      { what: `${kind} alert ${state} on ${LANE(i)}` },
    );
  /** Central's stable count of the lane equals the simulator's truth (read after the wait). */
  const countsTruth = async (i: number) => {
    const v = await waitFor(
      async () => {
        const l = await lane(i);
        return l.stable && l.state === 'ok' && l.units === truth(i) ? l : undefined;
      },
      20_000,
      { what: `${LANE(i)} counted as the truth (${truth(i)}) at central` },
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}; central has ${JSON.stringify(await lane(i))}`);
    });
    expect(v.units).toBe(truth(i));
  };
  const noFalseOrders = async () => expect(await falseOrders()).toEqual([]);
  const act = (action: Record<string, unknown>) => simControl(sim, SERIAL, action);

  beforeAll(async () => {
    const dataDir = join(dir, 'central');
    addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
    addUser(dataDir, 'admin', ['--role', 'admin'], 'admin-password-1');
    sim = await startSimulator({
      seed: SEED,
      transport: 'pty',
      scenario: {
        shelves: [
          {
            serial: SERIAL,
            lanes: UNITS.map((u, i) => ({ unitWeightG: u, items: ITEMS[i], capacity: CAPACITY[i] })),
          },
        ],
      },
    });
    central = await startCentral(
      {
        dataDir,
        log: { level: 'warn' },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        suppliers: [{ id: 'acme' }],
        skus: UNITS.map((u, i) => ({ id: `sku-${i}`, unitWeightG: u, supplier: 'acme' })),
        sites: [
          {
            id: 'store-1',
            shelves: [
              {
                id: 'shelf-1',
                serial: SERIAL,
                agent: 'pi-1',
                lanes: UNITS.map((_, i) => ({
                  id: LANE(i),
                  channels: [i],
                  sku: `sku-${i}`,
                  capacity: CAPACITY[i],
                })),
              },
            ],
          },
        ],
        timing: { offlineAfterMs: 60_000 },
        replenishment: {
          defaults: { debounceMs: 0, hysteresis: 1 },
          lanes: UNITS.map((_, i) => ({
            site: 'store-1',
            shelf: 'shelf-1',
            lane: LANE(i),
            reorderPoint: ROP[i],
          })),
          tickMs: 200,
        },
      },
      dir,
    );
    const cfg = centralAgentConfig(sim, central.mqtt);
    agent = new Agent(cfg, createLogger(process.env.DEBUG_AGENT ? 'debug' : 'silent'));
    await agent.start();
    admin = await central.login('admin', 'admin-password-1');
    for (const i of UNITS.keys()) await countsTruth(i);
    for (const i of UNITS.keys()) expect((await lane(i)).reorderPoint).toBe(ROP[i]);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await killAll();
    await sim?.stop();
  });

  it('a hand resting briefly: a hand observation, no alert, no count change', async () => {
    await act({ action: 'lean', lane: 1, grams: 60, ms: 700 });
    const hand = await observed('hand', 1, 'open');
    expect(hand.grams).toBeGreaterThan(0);
    await countsTruth(1);
    await noFalseOrders();
  });

  it('a lean that lasts: a lean observation, no alert, the count as before once it ends', async () => {
    await act({ action: 'lean', lane: 2, grams: 90, ms: 5_000 });
    const lean = await observed('lean', 2, 'open');
    await observed('lean', 2, 'cleared', lean);
    await countsTruth(2);
    await noFalseOrders();
  });

  it('a foreign object put down then lifted: observed, alerted, cleared; kept out of the count', async () => {
    await act({ action: 'place', lane: 0, grams: 30.5 });
    const object = await observed('foreign-object', 0, 'open');
    expect(object.grams).toBeCloseTo(30.5, 0);
    await alert('foreign-object', 0, 'open');
    await countsTruth(0); // the object is not an item
    await act({ action: 'lift', lane: 0 });
    await observed('foreign-object', 0, 'cleared', object);
    await alert('foreign-object', 0, 'cleared');
    await countsTruth(0);
    await noFalseOrders();
  });

  it("another lane's item put back on the wrong lane: misplaced, alerted, cleared when taken away", async () => {
    await act({ action: 'misplace', from: 2, to: 0 });
    const misplaced = await observed('misplaced-item', 0, 'open');
    expect(misplaced.otherLane).toBe('L2');
    expect(misplaced.grams).toBeCloseTo(73, 0);
    await alert('misplaced-item', 0, 'open');
    await countsTruth(0);
    await act({ action: 'lift', lane: 0 });
    await observed('misplaced-item', 0, 'cleared', misplaced);
    await alert('misplaced-item', 0, 'cleared');
    await countsTruth(0);
    await countsTruth(2); // nothing was taken from L2
    await noFalseOrders();
  });

  it('a cell unplugged, an item taken, plugged back: tamper, and the count follows the truth', async () => {
    await act({ action: 'unplug', channel: 2 });
    await waitFor(async () => (await lane(2)).status === 'sensor-fault', 20_000, {
      what: 'L2 in sensor fault at central',
    });
    await act({ action: 'remove', lane: 2, count: 1 });
    await act({ action: 'replug', channel: 2 });
    const tamper = await observed('tamper', 2, 'open');
    expect(tamper.cause).toBe('cell');
    await alert('tamper', 2, 'open');
    await countsTruth(2); // 9: one above the reorder point
    await act({ action: 'add', lane: 2, count: 1 });
    await countsTruth(2);
    await noFalseOrders();
  });

  it('a SKU swapped for 57 g items without telling the agent: a wrong unit weight, held, recounted once accepted', async () => {
    // Emptied at once (a real need: the truth is 0), then 8 items put in a second apart.
    await act({ action: 'sku-change', lane: 1, unitWeightG: 57, items: 8, itemMs: 1_000 });
    const proposed = await waitFor(
      async () =>
        (await observations('unit-weight')).find(
          (o) => o.lane === 'L1' && o.state === 'open' && o.proposal?.wrong && o.proposal.steps >= 4,
        ),
      30_000,
      { what: 'a wrong-unit-weight proposal on L1 resting on 4 steps' },
    ).catch(async (e) => {
      const all = (await get<Observation[]>('/api/observations?limit=100')).filter((o) => o.lane === 'L1');
      throw new Error(
        `${(e as Error).message}; truth ${truth(1)}, L1 at central ${JSON.stringify(await lane(1))}, L1 observations ${JSON.stringify(all.map((o) => [o.kind, o.state, o.grams, o.proposal]))}, orders ${JSON.stringify(await orders())}`,
      );
    });
    expect(Math.abs((proposed.proposal?.unitWeightG ?? 0) - 57)).toBeLessThan(0.57);
    await alert('unit-weight', 1, 'open');
    await waitFor(() => truth(1) === 8, 20_000, { what: 'all 8 new items on L1' });
    // Each step renews the proposal; the technician accepts the newest, resting on every step.
    const newest = await waitFor(
      async () => {
        const v = await get<{ proposal: Observation | null }>('/api/lanes/store-1/shelf-1/L1/unit-weight');
        return (v.proposal?.proposal?.steps ?? 0) >= 8 ? v.proposal : undefined;
      },
      20_000,
      { what: 'the newest proposal on L1 resting on all 8 steps' },
    ).catch(async (e) => {
      const all = (await observations('unit-weight')).filter((o) => o.lane === 'L1');
      throw new Error(
        `${(e as Error).message}: ${JSON.stringify(all.map((o) => [o.id, o.state, o.proposal]))}`,
      );
    });
    expect(Math.abs((newest.proposal?.unitWeightG ?? 0) - 57)).toBeLessThan(0.57);
    // Held at the count the emptying left (0), not recounted with the wrong 42 g (456 g ≈ 10.9).
    const held = await lane(1);
    expect(held.state, 'the count is held while the unit weight is wrong').not.toBe('ok');
    expect(held.units).toBe(0);
    const r = await central.api('/api/lanes/store-1/shelf-1/L1/unit-weight/accept', admin, {
      method: 'POST',
      body: JSON.stringify({ observation: newest.id }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status, await r.clone().text()).toBe(200);
    await alert('unit-weight', 1, 'cleared');
    await countsTruth(1);
    // The emptying was a real need (truth 0): at most the one order it called for, none since.
    expect((await orders()).filter((o) => o.lane === 'L1').length).toBeLessThanOrEqual(1);
    await noFalseOrders();
  }, 60_000);

  it('[control] a real pick to the reorder point opens exactly one order', async () => {
    const before = (await orders()).length;
    await act({ action: 'remove', lane: 0, count: 1 }); // 12 → 11 = the reorder point
    await countsTruth(0);
    const mine = await waitFor(
      async () => {
        const l0 = (await orders()).filter((o) => o.lane === 'L0');
        return l0.length > 0 ? l0 : undefined;
      },
      20_000,
      { what: 'the L0 order' },
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ state: 'open', quantity: (CAPACITY[0] as number) - 11 }); // up to capacity
    expect((await orders()).length).toBe(before + 1);
    await noFalseOrders();
  });
});
