/**
 * Fault: the shelf's side. The serial port vanishes (USB adapter unplugged) while items are taken,
 * and comes back; the shelf sends junk (random bytes, lines with a bad CRC) for a while. The
 * agent reopens the port by itself and catches up with what happened while it was gone; junk
 * never becomes a count, a count change or an order.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chain, REORDER_POINT, SERIAL, startChain } from '../helpers/faults-chain.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 60, items: 40, capacity: 60 },
  { unitWeightG: 200, items: 12, capacity: 20 },
];

describe('[no false count, no false order] serial port vanishing and a shelf sending junk', () => {
  let chain: Chain;

  beforeAll(async () => {
    chain = await startChain({ name: 'serial', seed: 61, lanes });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
  });

  const truthItems = (lane: number) => chain.sim.truth(SERIAL).lanes[lane]?.items;

  it('the port vanishes while items are taken and returns: counts catch up, one order', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    const gone = await chain.control({ action: 'vanish', ms: scale(2_500, 30_000) });
    await chain.control({ action: 'remove', lane: 0, count: 8 - (REORDER_POINT - 1) });
    await chain.control({ action: 'remove', lane: 1, count: 3 });
    const back = await waitFor(
      () => chain.sim.groundTruth.states(SERIAL).find((s) => s.seq > gone.appliesFromSeq && !s.vanished),
      60_000,
      { what: 'the port to return' },
    );
    const t0 = Date.now();
    await waitFor(
      async () =>
        (await chain.lane('L0')).units === truthItems(0) && (await chain.lane('L1')).units === truthItems(1),
      30_000,
      { what: 'central to show what was taken while the port was gone' },
    );
    const recoveryMs = Date.now() - t0;
    await waitFor(async () => (await chain.orders()).some((o) => o.lane === 'L0'), 30_000, {
      what: 'the L0 order',
    });
    await chain.waitCaughtUp(Date.now());
    const row = await chain.score(
      scale('serial port vanishes (2.5 s)', 'serial port vanishes (30 s)'),
      from,
      recoveryMs,
      {
        returnedAtFrame: back.seq,
      },
    );
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
  }, 120_000);

  it('junk on the line for a while: rejected and counted, no count change, no order', async () => {
    const agent = chain.agent;
    if (!agent) throw new Error('in-process agent expected');
    const from = (await chain.agentSeq()).lastSeq;
    const rejectsBefore = Object.values(agent.rejects()).reduce((a, b) => a + b, 0);
    const ordersBefore = (await chain.orders()).length;
    const units = [0, 1, 2].map(truthItems);
    const end = Date.now() + scale(4_000, 60_000);
    let bursts = 0;
    while (Date.now() < end) {
      await chain.control({ action: 'garbage', bytes: [8, 40] });
      if (bursts % 3 === 0) await chain.control({ action: 'corrupt', lines: [1, 4] });
      bursts++;
      await new Promise((r) => setTimeout(r, 40));
    }
    const t0 = Date.now();
    const recoveryMs = await chain.waitCaughtUp(t0);
    const rejects = Object.values(agent.rejects()).reduce((a, b) => a + b, 0) - rejectsBefore;
    expect(rejects).toBeGreaterThan(bursts / 2);
    // Nothing on the shelf changed, so no count event may have been made from the junk.
    const db = new Database(chain.dbFile, { readonly: true, fileMustExist: true });
    const events = (
      db
        .prepare("SELECT COUNT(*) AS n FROM readings WHERE agent = 'pi-1' AND kind = 'event' AND seq > ?")
        .get(from) as { n: number }
    ).n;
    db.close();
    expect(events).toBe(0);
    for (const [i, u] of units.entries()) expect((await chain.lane(`L${i}`)).units).toBe(u);
    expect((await chain.orders()).length).toBe(ordersBefore);
    const row = await chain.score(
      scale('junk on the serial line (4 s)', 'junk on the serial line (60 s)'),
      from,
      recoveryMs,
      {
        bursts,
        rejects,
        countEvents: events,
      },
    );
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
  }, 120_000);
});
