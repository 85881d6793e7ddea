/**
 * The HTTP API answers in the contract's shapes (`protocol/src/api/`), the ones the dashboard
 * parses: every route the dashboard calls, for a supplier, an operator and a technician, on real
 * parts with data in every field. Each answer is parsed with the contract's schema and must come
 * out unchanged — nothing stripped (a field the contract does not name), nothing filled in (a
 * field the handler left out) — so a handler whose answer drifts from the contract fails here.
 */
import {
  AlertsResponse,
  ApiAlert,
  ApiDeadLetter,
  ApiErrorBody,
  ApiLane,
  ApiOrder,
  CalibrationsResponse,
  CommandReply,
  DeadLettersResponse,
  HistoryResponse,
  LanesResponse,
  LoginResponse,
  OrdersResponse,
} from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, type Harness, LANES, PASSWORD, startHarness, T0 } from './harness.js';

const SUPPLIER = 'sup-x';
const OPERATOR = 'op-a';
const TECHNICIAN = 'tech-a';
const ROLES = [SUPPLIER, OPERATOR, TECHNICIAN] as const;

/** Parses `r.body` with the contract and checks the parse changed nothing. */
function exact<T>(schema: { parse(value: unknown): T }, r: ApiResponse, status = 200): T {
  expect(r.status, r.text).toBe(status);
  const parsed = schema.parse(r.body);
  expect(parsed).toEqual(r.body);
  return parsed;
}

/** Keys that were null in every row: a field never seen with a value would hide a type drift. */
function alwaysNull(rows: readonly object[], keys: readonly string[]): string[] {
  return keys.filter((k) => rows.every((r) => (r as Record<string, unknown>)[k] === null));
}

describe('HTTP API: answers match the contract', () => {
  let h: Harness;
  const tokens: Record<string, string> = {};
  const call = (user: string, method: string, path: string, body?: unknown) =>
    h.call(method, path, { token: tokens[user] ?? null, ...(body !== undefined ? { body } : {}) });
  const get = (user: string, path: string) => call(user, 'GET', path);
  const post = (user: string, path: string, body: unknown = {}) => call(user, 'POST', path, body);

  beforeAll(async () => {
    h = await startHarness();
    for (const user of [...ROLES, 'admin']) tokens[user] = await h.login(user);
    // Agent status and shelf health, so agentOnline and health hold values.
    for (const [site, agent, shelf, serial] of [
      ['A', 'agent-a', 'a1', 'SA1'],
      ['B', 'agent-b', 'b1', 'SB1'],
    ] as const) {
      h.live.onStatus(site, { agent, site, state: 'online', shelves: [serial], ts: T0 - 10_000 });
      h.live.onHealth(site, shelf, {
        agent,
        serial,
        status: 'ok',
        channels: [0, 1].map((channel) => ({ channel, status: 'ok' as const, noiseG: 0.4, driftG: 0 })),
        rejects: {},
        ts: T0 - 10_000,
      });
    }
    // Levels and picks, so every lane has a reading and the rules a forecast.
    h.feed(
      h.level('AX', 20, -9_000),
      h.event('AX', 'pick', -2, 18, -8_000),
      h.level('AX', 18, -8_000),
      h.level('AY', 25, -9_000),
      h.event('AY', 'pick', -1, 24, -8_000),
      h.level('AY', 24, -8_000),
      h.level('BX', 10, -7_000),
      h.level('BY', 3, -7_000),
    );
    // A calibration record on A/a1/l1, naming the technician.
    h.store.readings.commit(
      [
        {
          ...LANES.AX,
          kind: 'calibration' as const,
          payload: {
            agent: 'agent-a',
            serial: 'SA1',
            shelf: 'a1',
            lane: 'l1',
            kind: 'calibrate' as const,
            by: { user: TECHNICIAN, role: 'technician' },
            channels: [0],
            referenceG: 1000,
            items: 3,
            before: { offset: 1 },
            after: { offset: 2 },
            residualG: 0.4,
            correctionG: 1.5,
            ts: T0 - 6_000,
            seq: 9_001,
          },
        },
      ],
      h.now.t,
    );
  });
  afterAll(() => h?.close());

  it('[contract] login and refresh answer a LoginResponse for every role', async () => {
    for (const user of ROLES) {
      const r = await h.call('POST', '/api/login', { body: { username: user, password: PASSWORD } });
      expect(exact(LoginResponse, r).user.name).toBe(user);
      exact(LoginResponse, await post(user, '/api/login/refresh'));
    }
    expect(exact(LoginResponse, await post(SUPPLIER, '/api/login/refresh')).user.supplier).toBe('X');
  });

  it('[contract] the lane list and each lane are ApiLanes, every field seen with a value', async () => {
    const orderId = h.openOrder('AX', 20);
    const seen: ApiLane[] = [];
    for (const user of ROLES) {
      const lanes = exact(LanesResponse, await get(user, '/api/lanes'));
      expect(lanes.length, user).toBeGreaterThan(0);
      for (const l of lanes) {
        exact(ApiLane, await get(user, `/api/lanes/${l.site}/${l.shelf}/${l.lane}`));
        seen.push(l);
      }
    }
    expect(seen.find((l) => l.openOrder !== null)?.openOrder?.id).toBe(orderId);
    expect(alwaysNull(seen, Object.keys(ApiLane.shape))).toEqual([]);
    h.orders.transition(orderId, 'cancelled', { now: h.now.t });
  });

  it('[contract] history is a HistoryResponse with levels and events', async () => {
    for (const user of ROLES) {
      const hist = exact(HistoryResponse, await get(user, `/api/lanes/A/a1/l1/history?from=${T0 - 60_000}`));
      expect(hist.levels.length, user).toBeGreaterThan(0);
      expect(hist.events.length, user).toBeGreaterThan(0);
    }
  });

  it('[contract] calibration records are CalibrationsResponse; a supplier gets the error body', async () => {
    for (const user of [OPERATOR, TECHNICIAN]) {
      const rows = exact(CalibrationsResponse, await get(user, '/api/lanes/A/a1/l1/calibrations'));
      expect(
        rows.map((c) => [c.id, c.by?.user]),
        user,
      ).toEqual([['agent-a:9001', TECHNICIAN]]);
    }
    exact(ApiErrorBody, await get(SUPPLIER, '/api/lanes/A/a1/l1/calibrations'), 403);
  });

  it('[contract] orders and their transitions answer OrdersResponse and ApiOrder, every field seen', async () => {
    const shipped = h.openOrder('AX', 20);
    const cancelled = h.openOrder('AY', 12);
    exact(ApiOrder, await post(SUPPLIER, `/api/orders/${shipped}/acknowledge`));
    expect(
      exact(ApiOrder, await post(SUPPLIER, `/api/orders/${shipped}/ship`, { quantity: 18 })),
    ).toMatchObject({
      state: 'shipped',
      shippedQuantity: 18,
    });
    expect(
      exact(ApiOrder, await post(OPERATOR, `/api/orders/${cancelled}/cancel`, { reason: 'test' })).state,
    ).toBe('cancelled');
    // The shelf receives it (never the API), so receivedQuantity holds a value too.
    h.orders.transition(shipped, 'received', { now: h.now.t, receivedQuantity: 18 });
    const seen: ApiOrder[] = [];
    for (const user of ROLES) {
      const orders = exact(OrdersResponse, await get(user, '/api/orders'));
      for (const o of orders) seen.push(exact(ApiOrder, await get(user, `/api/orders/${o.id}`)));
    }
    expect(seen.map((o) => o.id)).toContain(shipped);
    expect(alwaysNull(seen, Object.keys(ApiOrder.shape))).toEqual([]);
  });

  it('[contract] alerts and acknowledging one answer AlertsResponse and ApiAlert, every field seen', async () => {
    const open = h.store.alerts.open(LANES.AX, 'sensor-fault', 'cell unplugged', h.now.t - 2_000).alert;
    const acked = h.store.alerts.open(LANES.AY, 'anomaly', 'shaky', h.now.t - 1_000).alert;
    const cleared = h.store.alerts.open(LANES.AX, 'offline', 'agent offline', h.now.t - 500).alert;
    h.store.alerts.clear(cleared.id, h.now.t);
    expect(exact(ApiAlert, await post(OPERATOR, `/api/alerts/${acked.id}/acknowledge`)).acknowledgedBy).toBe(
      OPERATOR,
    );
    const seen: ApiAlert[] = [];
    for (const user of ROLES) {
      seen.push(...exact(AlertsResponse, await get(user, '/api/alerts')));
      seen.push(...exact(AlertsResponse, await get(user, '/api/alerts?state=open,acknowledged,cleared')));
    }
    expect(new Set(seen.map((a) => a.id))).toEqual(new Set([open.id, acked.id, cleared.id]));
    expect(alwaysNull(seen, Object.keys(ApiAlert.shape))).toEqual([]);
    expect(exact(ApiAlert, await post(TECHNICIAN, `/api/alerts/${open.id}/acknowledge`)).state).toBe(
      'acknowledged',
    );
  });

  it('[contract] a technician command answers a CommandReply; other roles get the error body', async () => {
    const reply = exact(
      CommandReply,
      await post(TECHNICIAN, '/api/agents/A/agent-a/commands/tare', { args: { shelf: 'a1', lane: 'l1' } }),
    );
    expect(reply).toMatchObject({ status: 'ok', error: null });
    for (const user of [SUPPLIER, OPERATOR]) {
      exact(ApiErrorBody, await post(user, '/api/agents/A/agent-a/commands/identify', { args: {} }), 403);
    }
  });

  it('[contract] every refusal is an ApiErrorBody, with issues for a bad request', async () => {
    const bad = exact(ApiErrorBody, await get(OPERATOR, '/api/orders?state=open,lost'), 400);
    expect(bad.error.issues?.map((i) => i.path)).toEqual(['state.1']);
    exact(ApiErrorBody, await h.call('GET', '/api/lanes'), 401);
    exact(ApiErrorBody, await get(SUPPLIER, '/api/lanes/A/a1/l2'), 404);
    exact(ApiErrorBody, await post(SUPPLIER, '/api/login/refresh', { extra: 1 }), 400);
  });

  it('[contract] webhook dead letters (admins) answer DeadLettersResponse and ApiDeadLetter', async () => {
    const id = h.openOrder('BX', 6);
    const [entry] = h.orders.outbox.list({ orderId: id });
    const eid = entry?.id as number;
    h.orders.outbox.claimDue(h.now.t, 100, 1_000);
    h.orders.outbox.markFailed(eid, { status: 500, error: 'HTTP 500' }, null, h.now.t);
    const dead = exact(DeadLettersResponse, await get('admin', '/api/webhooks/dead'));
    expect(dead.map((d) => d.orderId)).toEqual([id]);
    expect(alwaysNull(dead, Object.keys(ApiDeadLetter.shape))).toEqual([]);
    expect(exact(ApiDeadLetter, await post('admin', `/api/webhooks/dead/${eid}/requeue`)).state).toBe(
      'pending',
    );
  });
});
