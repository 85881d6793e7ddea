/**
 * Live updates: MQTT messages are checked against the shared payload schemas, a level reading
 * updates its lane's count and status, stale retained readings are ignored, agent status marks
 * lanes offline, a lane silent for central's offline timeout goes offline, and order/alert
 * messages ask for a refresh.
 */
import { CATALOGUE_TOPIC, topics } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyAgentStatus,
  applyLevel,
  classifyMessage,
  expireLanes,
  mergeLanes,
  reduceLanes,
} from '../../../dashboard/web/lib/live.js';
import { lane, level, T0 } from './fixtures.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const ref = { site: 'store-1', shelf: 'shelf-a', lane: 'L0' };

describe('classifyMessage', () => {
  it('parses a level message into a level action', () => {
    const a = classifyMessage(topics.level('store-1', 'shelf-a', 'L0'), enc(level()));
    expect(a).toEqual({ type: 'level', ref, level: level() });
  });

  it('[catalogue] a new catalogue version asks for a refresh; a bad announcement names its field', () => {
    expect(classifyMessage(CATALOGUE_TOPIC, enc({ version: 7, ts: 1 }))).toEqual({
      type: 'refresh',
      reason: 'catalogue',
    });
    const bad = classifyMessage(CATALOGUE_TOPIC, enc({ version: -1, ts: 1 }));
    expect(bad).toMatchObject({ type: 'invalid', error: expect.stringContaining('version') });
  });

  it('[bad input harms nothing] an invalid payload becomes an invalid action naming the field', () => {
    const a = classifyMessage(topics.level('store-1', 'shelf-a', 'L0'), enc({ ...level(), units: -3 }));
    expect(a.type).toBe('invalid');
    expect(a.type === 'invalid' && a.error).toMatch(/units/);
    const b = classifyMessage(topics.level('store-1', 'shelf-a', 'L0'), 'not json');
    expect(b.type === 'invalid' && b.error).toMatch(/not JSON/);
  });

  it('agent status, health and stream', () => {
    const s = classifyMessage(
      topics.status('store-1', 'pi-1'),
      enc({ agent: 'pi-1', site: 'store-1', state: 'offline', ts: T0 }),
    );
    expect(s).toEqual({ type: 'agent-status', site: 'store-1', agent: 'pi-1', online: false, ts: T0 });
    const h = classifyMessage(
      topics.health('store-1', 'shelf-a'),
      enc({ agent: 'pi-1', serial: 'S1', status: 'noisy', channels: [], ts: T0 }),
    );
    expect(h.type === 'health' && h.health.status).toBe('noisy');
    const st = classifyMessage(
      topics.stream('store-1', 'pi-1'),
      enc({ shelf: 'shelf-a', ts: T0, channels: [{ channel: 0, raw: 8123, grams: 12.5, stable: true }] }),
    );
    expect(st.type === 'stream' && st.stream.channels[0]?.raw).toBe(8123);
  });

  it('order, alert and calibration messages ask for a refresh', () => {
    for (const kind of ['order', 'alert', 'calibration'] as const) {
      expect(classifyMessage(topics.lane('store-1', 'shelf-a', 'L0', kind), '{}')).toEqual({
        type: 'refresh',
        reason: kind,
      });
    }
  });

  it('ignores topics outside the tree and empty (cleared) retained payloads', () => {
    expect(classifyMessage('other/topic', '{}').type).toBe('ignore');
    expect(classifyMessage(topics.level('store-1', 'shelf-a', 'L0'), new Uint8Array()).type).toBe('ignore');
  });
});

describe('applying readings', () => {
  it('[live count] a level reading changes the lane count, fill and status', () => {
    const lanes = [lane(), lane({ lane: 'L1' })];
    const out = applyLevel(lanes, ref, level({ units: 7 }));
    expect(out).not.toBe(lanes);
    expect(out[0]?.units).toBe(7);
    expect(out[0]?.status).toBe('below-reorder');
    expect(out[0]?.updatedAt).toBe(T0 + 1000);
    expect(out[1]).toBe(lanes[1]);
    expect(lanes[0]?.units).toBe(20);
    expect(applyLevel(lanes, ref, level({ units: 0 }))[0]?.status).toBe('stock-out');
    expect(applyLevel(lanes, ref, level({ state: 'fault' }))[0]?.status).toBe('sensor-fault');
  });

  it('ignores readings older than the lane shows, and unknown lanes', () => {
    const lanes = [lane()];
    expect(applyLevel(lanes, ref, level({ ts: T0 - 1 }))).toBe(lanes);
    expect(applyLevel(lanes, { ...ref, lane: 'L9' }, level())).toBe(lanes);
  });

  it('computes fill from capacity when the agent does not know it', () => {
    const out = applyLevel([lane()], ref, level({ units: 12, fill: null }));
    expect(out[0]?.fill).toBe(0.5);
  });

  it('an offline agent marks its lanes offline; coming back restores them', () => {
    const lanes = [lane(), lane({ lane: 'L1', agent: 'pi-2' })];
    const off = applyAgentStatus(lanes, 'store-1', 'pi-1', false);
    expect(off.map((l) => l.status)).toEqual(['offline', 'ok']);
    const on = reduceLanes(off, {
      type: 'agent-status',
      site: 'store-1',
      agent: 'pi-1',
      online: true,
      ts: T0,
    });
    expect(on.map((l) => l.status)).toEqual(['ok', 'ok']);
    expect(applyAgentStatus(lanes, 'store-1', 'pi-1', true)).toBe(lanes);
  });

  it('a fresh API list keeps readings that live messages made newer', () => {
    const live = applyLevel([lane()], ref, level({ units: 5, ts: T0 + 5000 }));
    const merged = mergeLanes(
      [lane({ units: 9, updatedAt: T0 + 2000, openOrder: { id: 'o1', state: 'open', quantity: 18 } })],
      live,
    );
    expect(merged[0]?.units).toBe(5);
    expect(merged[0]?.openOrder?.id).toBe('o1');
    expect(merged[0]?.status).toBe('ordered');
    const newer = mergeLanes([lane({ units: 9, updatedAt: T0 + 9000 })], live);
    expect(newer[0]?.units).toBe(9);
  });
});

describe('the offline timeout', () => {
  // A fake clock: every function takes `now`, as the UI's timer passes Date.now().
  const TIMEOUT = 120_000;

  it('[offline timeout] a lane whose agent went silent goes offline after central’s timeout', () => {
    const lanes = [
      lane({ offlineAfterMs: TIMEOUT }),
      lane({ lane: 'L1', offlineAfterMs: TIMEOUT, updatedAt: T0 + 30_000 }),
    ];
    expect(expireLanes(lanes, T0 + TIMEOUT - 1)).toBe(lanes);
    const first = expireLanes(lanes, T0 + TIMEOUT);
    expect(first.map((l) => l.status)).toEqual(['offline', 'ok']);
    expect(first[1]).toBe(lanes[1]);
    const both = expireLanes(first, T0 + 30_000 + TIMEOUT);
    expect(both.map((l) => l.status)).toEqual(['offline', 'offline']);
    expect(expireLanes(both, T0 + 10 * TIMEOUT)).toBe(both);
  });

  it('a new reading brings the lane back; a reading already older than the timeout does not', () => {
    const off = expireLanes([lane({ offlineAfterMs: TIMEOUT })], T0 + TIMEOUT);
    const back = applyLevel(off, ref, level({ units: 20, ts: T0 + TIMEOUT + 500 }), T0 + TIMEOUT + 600);
    expect(back[0]?.status).toBe('ok');
    const late = applyLevel(off, ref, level({ units: 20, ts: T0 + 1000 }), T0 + TIMEOUT + 1000);
    expect(late[0]?.status).toBe('offline');
    // Merging a fresh API answer with an older reading than the live one keeps the live reading's status.
    expect(
      mergeLanes([lane({ offlineAfterMs: TIMEOUT, status: 'offline' })], back, T0 + TIMEOUT + 700)[0]?.status,
    ).toBe('ok');
  });

  it('only moves a lane to offline: a status only central could give is kept until then', () => {
    const fault = [lane({ offlineAfterMs: TIMEOUT, status: 'sensor-fault' })];
    expect(expireLanes(fault, T0 + 1000)).toBe(fault);
    expect(expireLanes(fault, T0 + TIMEOUT)[0]?.status).toBe('offline');
  });

  it('a central that does not send its timeout: lanes do not expire', () => {
    const lanes = [lane()];
    expect(lanes[0]?.offlineAfterMs).toBeNull();
    expect(expireLanes(lanes, T0 + 100 * TIMEOUT)).toBe(lanes);
  });
});
