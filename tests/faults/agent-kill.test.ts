/**
 * Fault: power yanked from the agent (`kill -9` of the `shelfsense agent` child). Once while the
 * broker is down and the agent holds an undelivered backlog; and right as a technician's
 * calibration is being written. After the restart nothing the agent had accepted is lost, the
 * calibration on disk is the old one or the new one entirely, and the record of a calibration that
 * took effect reaches central exactly once (none for one that did not).
 */
import { readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Chain,
  REORDER_POINT,
  SERIAL,
  startChain,
  picksFor as takeFor,
} from '../helpers/faults-chain.js';
import { scale } from '../helpers/faults-figures.js';
import { waitFor } from '../helpers/wait.js';

const lanes = [
  { unitWeightG: 350, items: 8, capacity: 20 },
  { unitWeightG: 60, items: 120, capacity: 150 },
  { unitWeightG: 200, items: 12, capacity: 20 },
  { unitWeightG: 100, items: 20, capacity: 30 },
];

describe('[nothing lost] agent kill -9 during an outage and during a calibration write', () => {
  let chain: Chain;
  let l1 = 120;

  beforeAll(async () => {
    chain = await startChain({ name: 'agent', seed: 51, lanes, child: true });
  }, 60_000);

  afterAll(async () => {
    await chain?.stop();
  });

  /** Picks from L1 for `ms`, keeping its expected count. */
  async function picksFor(ms: number) {
    const picks = await takeFor(chain, 1, ms);
    l1 -= picks;
    return picks;
  }

  it('kill -9 while the broker is down and a backlog waits: every accepted reading arrives, one order', async () => {
    const from = (await chain.agentSeq()).lastSeq;
    await chain.central.kill();
    await chain.control({ action: 'remove', lane: 0, count: 8 - (REORDER_POINT - 1) });
    let picks = await picksFor(scale(2_000, 20_000));
    const backlog = await chain.queued();
    await chain.killAgent();
    picks += await picksFor(scale(1_000, 10_000)); // nobody watches the shelf
    await chain.startAgent();
    picks += await picksFor(scale(1_500, 15_000));
    await chain.central.restart();
    const t0 = Date.now();
    await chain.relogin();
    const recoveryMs = await chain.waitCaughtUp(t0);
    await waitFor(async () => (await chain.lane('L1')).units === l1, 30_000, {
      what: 'the picks of the outage at central',
    });
    await waitFor(async () => (await chain.orders()).some((o) => o.lane === 'L0'), 30_000, {
      what: 'the L0 order',
    });
    const order = (await chain.orders()).find((o) => o.lane === 'L0');
    await waitFor(() => chain.hooks.processed().some((h) => h.orderId === order?.id), 30_000, {
      what: 'the L0 webhook',
    });
    const row = await chain.score('agent kill -9 during a broker outage', from, recoveryMs, {
      picks,
      backlog,
    });
    expect(backlog).toBeGreaterThan(0);
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
  }, 180_000);

  it('kill -9 right as a calibration is written: old or new entirely, its record delivered once if applied', async () => {
    const file = join(chain.stateDir, 'calibration', `${SERIAL}.json`);
    const read = () => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return null;
      }
    };
    const calibrationRecords = () => {
      const db = new Database(chain.dbFile, { readonly: true, fileMustExist: true });
      try {
        return (
          db
            .prepare("SELECT COUNT(*) AS n FROM calibrations WHERE agent = 'pi-1' AND kind = 'calibrate'")
            .get() as {
            n: number;
          }
        ).n;
      } finally {
        db.close();
      }
    };
    const from = (await chain.agentSeq()).lastSeq;
    const baseScale = chain.sim.truth(SERIAL, 0).cells[3]?.scale ?? 1;
    // When the power goes: `tmp` d ms after the temp file of the write appears (mid-write, fsync);
    // `landed` the instant the new file is renamed into place (before the record is queued);
    // `verify` 300 ms after the request, while the new calibration is checked but not yet stored.
    type Moment = { at: 'tmp'; delay: number } | { at: 'landed' } | { at: 'verify' };
    const tmp = (delay: number): Moment => ({ at: 'tmp', delay });
    const landed: Moment = { at: 'landed' };
    const verify: Moment = { at: 'verify' };
    const moments = scale<Moment[]>(
      [tmp(0), landed, verify],
      [
        tmp(0),
        tmp(1),
        tmp(2),
        tmp(4),
        tmp(8),
        tmp(20),
        landed,
        landed,
        landed,
        landed,
        landed,
        landed,
        verify,
        verify,
      ],
    );
    const calibrationFile = `${SERIAL}.json`;
    let applied = 0;
    let kept = 0;
    for (const [k, moment] of moments.entries()) {
      // The cell drifts, so every calibration differs from the one before it.
      await chain.control({ action: 'cell', channel: 3, scale: baseScale * (1 + (k % 2 ? -0.02 : 0.02)) });
      await new Promise((r) => setTimeout(r, 1_500)); // the lane settles
      const before = read();
      const proc = chain.agentProc;
      if (!proc) throw new Error('agent child expected');
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        process.kill(proc.pid, 'SIGKILL');
      };
      const watcher =
        moment.at === 'verify'
          ? null
          : watch(join(chain.stateDir, 'calibration'), (event, name) => {
              if (moment.at === 'landed') {
                if (event === 'rename' && name === calibrationFile) kill();
              } else if (name?.endsWith('.tmp')) {
                if (moment.delay === 0) kill();
                else setTimeout(kill, moment.delay);
              }
            });
      let answered = '';
      const answer = chain
        .command('calibrate', { shelf: SERIAL, lane: 'L3', massG: 2_000 })
        .then(async (r) => {
          answered = `${r.status} ${await r.text()}`;
        })
        .catch(() => null);
      if (moment.at === 'verify') setTimeout(kill, 300);
      await waitFor(() => killed, 20_000, { what: 'the calibration write to begin' }).catch((err: Error) => {
        throw new Error(`iteration ${k}: ${err.message}; calibrate answered ${answered}`);
      });
      watcher?.close();
      await proc.exited;
      // The request itself times out at central (504) when the kill came first; nobody waits for it.
      void answer;
      const after = read();
      // Whole JSON, old or new: never a torn mix.
      if (after !== null) expect(() => JSON.parse(after)).not.toThrow();
      if (after !== null && after !== before) applied++;
      else kept++;
      await chain.startAgent();
      await chain.agentReady();
      await waitFor(async () => (await chain.queued()) === 0, 30_000, { what: 'the outbox to drain' });
      const delivered = calibrationRecords();
      expect({ iteration: k, moment, delivered }).toEqual({ iteration: k, moment, delivered: applied });
    }
    const row = await chain.score('agent kill -9 during calibration writes', from, null, {
      kills: moments.length,
      applied,
      kept,
    });
    expect(row).toMatchObject({ readingsLost: 0, duplicateOrders: 0, falseOrders: 0, missedOrders: 0 });
    expect(applied + kept).toBe(moments.length);
  }, 240_000);
});
