/**
 * Agent commands (the logged-in user is stamped on them; a timeout is a 504; suppliers get 403),
 * alert acknowledgement, webhook dead letters, and the request counter on the Prometheus registry.
 */
import { HTTP_REQUESTS_METRIC } from '@shelfsense/central/http';
import type { AlertEvent } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LANES, startHarness } from './harness.js';

type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };
type Reply = { status: string; data: unknown; error: unknown; transaction: string };

describe('HTTP API: agent commands', () => {
  let h: Harness;
  const t: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
    for (const u of ['tech-a', 'tech-b', 'sup-x', 'op-a', 'admin']) t[u] = await h.login(u);
  });
  afterAll(() => h?.close());

  const send = <T>(user: string, path: string, body: unknown) =>
    h.call<T>('POST', path, { token: t[user] as string, body });

  it('[actor] the command goes out as the logged-in technician, with the agent’s reply', async () => {
    const r = await send<Reply>('tech-a', '/api/agents/A/agent-a/commands/calibrate', {
      args: { shelf: 'a1', lane: 'l1', massG: 500 },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'ok',
      data: { echo: { shelf: 'a1', lane: 'l1', massG: 500 } },
      error: null,
      transaction: 'tx-1',
    });
    expect(h.relay.calls).toEqual([
      {
        site: 'A',
        agent: 'agent-a',
        command: 'calibrate',
        args: { shelf: 'a1', lane: 'l1', massG: 500 },
        actor: { user: 'tech-a', role: 'technician' },
      },
    ]);
    const admin = await send<Reply>('admin', '/api/agents/B/agent-b/commands/identify', {});
    expect(admin.status).toBe(200);
    expect(h.relay.calls[1]?.actor).toEqual({ user: 'admin', role: 'admin' });
  });

  it('[actor] a name in the body is refused, never used', async () => {
    const before = h.relay.calls.length;
    const top = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/tare', {
      args: { shelf: 'a1', lane: 'l1' },
      actor: { user: 'someone-else', role: 'admin' },
    });
    expect(top.status).toBe(400);
    expect(top.body.error.message).toMatch(/actor/);
    const inArgs = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/tare', {
      args: { shelf: 'a1', lane: 'l1', by: 'someone-else' },
    });
    expect(inArgs.status).toBe(400);
    expect(inArgs.body.error.issues?.[0]?.path).toBe('args');
    expect(h.relay.calls.length).toBe(before);
  });

  it('[504] an agent that does not answer in time is a 504; an unreachable broker a 503', async () => {
    h.relay.next = 'timeout';
    try {
      const r = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/identify', { args: {} });
      expect(r.status).toBe(504);
      expect(r.body.error.code).toBe('SHELF_ERR_TIMEOUT');
      h.relay.next = 'unavailable';
      const u = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/identify', { args: {} });
      expect(u.status).toBe(503);
      expect(u.body.error.code).toBe('SHELF_ERR_UNAVAILABLE');
    } finally {
      h.relay.next = 'ok';
    }
  });

  it('[403] suppliers and operators may not send commands; [404] a technician of another site cannot see the agent', async () => {
    const before = h.relay.calls.length;
    const sup = await send<ErrorBody>('sup-x', '/api/agents/A/agent-a/commands/identify', { args: {} });
    expect(sup.status).toBe(403);
    expect(sup.body.error.code).toBe('SHELF_ERR_FORBIDDEN');
    // The same for an agent that does not exist: nothing to learn about which agents exist.
    expect((await send('sup-x', '/api/agents/Z/ghost/commands/identify', { args: {} })).status).toBe(403);
    expect((await send('op-a', '/api/agents/A/agent-a/commands/identify', { args: {} })).status).toBe(403);
    expect((await send('tech-b', '/api/agents/A/agent-a/commands/identify', { args: {} })).status).toBe(404);
    expect((await send('tech-a', '/api/agents/A/agent-z/commands/identify', { args: {} })).status).toBe(404);
    expect(h.relay.calls.length).toBe(before);
  });

  it('[400] bad arguments and unknown commands name the field', async () => {
    const mass = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/calibrate', {
      args: { shelf: 'a1', lane: 'l1', massG: -1 },
    });
    expect(mass.status).toBe(400);
    expect(mass.body.error.issues?.map((i) => i.path)).toEqual(['args.massG']);
    const count = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/learn-unit', {
      args: { shelf: 'a1', lane: 'l1' },
    });
    expect(count.body.error.issues?.map((i) => i.path)).toEqual(['args.count']);
    const cmd = await send<ErrorBody>('tech-a', '/api/agents/A/agent-a/commands/reboot', { args: {} });
    expect(cmd.status).toBe(400);
    expect(cmd.body.error.issues?.map((i) => i.path)).toEqual(['command']);
  });
});

describe('HTTP API: alerts, dead letters, metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  it('[alerts] an operator of the site acknowledges an alert; the actor is recorded and the change published', async () => {
    const a = h.store.alerts.open(LANES.AX, 'sensor-fault', 'cell unplugged', h.now.t - 1_000).alert;
    const b = h.store.alerts.open(LANES.AY, 'anomaly', 'shaky', h.now.t).alert;
    const op = await h.login('op-a');
    const list = await h.call<{ id: string }[]>('GET', '/api/alerts', { token: op });
    expect(list.body.map((x) => x.id)).toEqual([b.id, a.id]);
    h.now.t += 500;
    const r = await h.call<Record<string, unknown>>('POST', `/api/alerts/${a.id}/acknowledge`, {
      token: op,
      body: {},
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: a.id,
      kind: 'sensor-fault',
      state: 'acknowledged',
      site: 'A',
      shelf: 'a1',
      lane: 'l1',
      message: 'cell unplugged',
      acknowledgedBy: 'op-a',
      acknowledgedAt: h.now.t,
      updatedAt: h.now.t,
    });
    expect((h.alertEvents as AlertEvent[]).map((e) => [e.alertId, e.state])).toEqual([
      [a.id, 'acknowledged'],
    ]);
    // Filtered by state and kind.
    const acked = await h.call<{ id: string }[]>('GET', '/api/alerts?state=acknowledged', { token: op });
    expect(acked.body.map((x) => x.id)).toEqual([a.id]);
    const kinds = await h.call<{ id: string }[]>('GET', '/api/alerts?kind=anomaly', { token: op });
    expect(kinds.body.map((x) => x.id)).toEqual([b.id]);
    // A technician of the site may too; a cleared alert cannot be acknowledged (409).
    const tech = await h.login('tech-a');
    expect((await h.call('POST', `/api/alerts/${b.id}/acknowledge`, { token: tech, body: {} })).status).toBe(
      200,
    );
    const c = h.store.alerts.open(LANES.AX, 'offline', 'agent offline', h.now.t).alert;
    h.store.alerts.clear(c.id, h.now.t);
    const cleared = await h.call<ErrorBody>('POST', `/api/alerts/${c.id}/acknowledge`, {
      token: op,
      body: {},
    });
    expect(cleared.status).toBe(409);
    expect(cleared.body.error.code).toBe('SHELF_ERR_TRANSITION');
    const bad = await h.call<ErrorBody>('GET', '/api/alerts?state=gone', { token: op });
    expect(bad.body.error.issues?.[0]?.path).toMatch(/^state/);
  });

  it('[dead letters] an admin lists dead letters and re-queues one; re-queueing twice is a 409', async () => {
    const id = h.openOrder('BX', 6);
    const [entry] = h.orders.outbox.list({ orderId: id });
    const eid = entry?.id as number;
    h.orders.outbox.claimDue(h.now.t, 100, 1_000);
    h.orders.outbox.markFailed(eid, { status: 500, error: 'HTTP 500' }, null, h.now.t);
    let woken = 0;
    h.deps.webhooks = { notify: () => woken++ };
    const admin = await h.login('admin');
    const dead = await h.call<
      { id: number; orderId: string; lastStatus: number; event: { orderId: string } }[]
    >('GET', '/api/webhooks/dead', { token: admin });
    expect(dead.body).toHaveLength(1);
    expect(dead.body[0]).toMatchObject({ id: eid, orderId: id, lastStatus: 500, event: { orderId: id } });
    const r = await h.call<{ state: string; attempts: number }>('POST', `/api/webhooks/dead/${eid}/requeue`, {
      token: admin,
      body: {},
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'pending', attempts: 0 });
    expect(woken).toBe(1);
    expect(
      (await h.call('POST', `/api/webhooks/dead/${eid}/requeue`, { token: admin, body: {} })).status,
    ).toBe(409);
    expect(
      (await h.call('POST', '/api/webhooks/dead/999999/requeue', { token: admin, body: {} })).status,
    ).toBe(404);
    expect((await h.call('POST', '/api/webhooks/dead/abc/requeue', { token: admin, body: {} })).status).toBe(
      404,
    );
  });

  it('[metrics] requests are counted by route pattern, method and status', async () => {
    const admin = await h.login('admin');
    await h.call('GET', '/api/orders/ord_nope', { token: admin });
    await h.call('GET', '/api/orders/ord_other', { token: admin });
    const metric = await h.registry.getSingleMetricAsString(HTTP_REQUESTS_METRIC);
    expect(metric).toContain('route="/api/orders/:id",method="GET",status="404"} 2');
    expect(metric).toContain('route="/api/login",method="POST",status="200"}');
    expect(metric).not.toContain('ord_nope');
  });
});
