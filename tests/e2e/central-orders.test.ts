/**
 * Replenishment end to end over real parts: simulator (pty) → agent → the compiled central process
 * (aedes + ingest + rules + SQLite) → a real HTTP webhook receiver; orders handled through the HTTP
 * API. One need makes one order, ever; nothing that is not a need orders; kill -9 of central loses
 * no reading and duplicates no order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { verifyWebhook } from '@shelfsense/central/webhooks';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralAgentConfig } from '../helpers/agent.js';
import { addUser, type CentralProcess, startCentral, WebhookReceiver } from '../helpers/central.js';
import { killAll } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const SERIAL = 'SHELF-E';
const SECRET = 'acme-webhook-secret-0123456789';

interface Order {
  id: string;
  lane: string;
  state: string;
  quantity: number;
  receivedQuantity: number | null;
}

describe('[one need = one order] replenishment end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'central-e2e-'));
  let central: CentralProcess;
  let sim: Simulator;
  let agent: Agent;
  let hooks: WebhookReceiver;
  let admin: string;
  let acme: string;

  const control = async (action: Record<string, unknown>) => {
    const r = await fetch(`${sim.controlUrl}/shelves/${SERIAL}/actions`, {
      method: 'POST',
      body: JSON.stringify(action),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    return (await r.json()) as { appliesFromSeq: number };
  };
  const orders = async (): Promise<Order[]> =>
    (await (await central.api('/api/orders', admin)).json()) as Order[];
  const ordersOf = async (lane: string) => (await orders()).filter((o) => o.lane === lane);
  const lane = async (id: string) =>
    (await (await central.api(`/api/lanes/store-1/shelf-1/${id}`, admin)).json()) as {
      units: number;
      status: string;
    };

  beforeAll(async () => {
    hooks = new WebhookReceiver();
    const url = await hooks.start();
    const dataDir = join(dir, 'central');
    addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
    addUser(dataDir, 'admin', ['--role', 'admin'], 'admin-password-1');
    addUser(dataDir, 'acme', ['--role', 'supplier', '--supplier', 'acme'], 'acme-password-1');
    sim = await startSimulator({
      seed: 17,
      transport: 'pty',
      scenario: {
        shelves: [
          {
            serial: SERIAL,
            lanes: [
              { unitWeightG: 350, items: 8, capacity: 20 },
              { unitWeightG: 150, items: 10, capacity: 20 },
              { unitWeightG: 60, items: 30, capacity: 40 },
            ],
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
        skus: [
          { id: 'cola', unitWeightG: 350, supplier: 'acme' },
          { id: 'chips', unitWeightG: 150, supplier: 'acme' },
          { id: 'gum', unitWeightG: 60, supplier: 'acme' },
        ],
        sites: [
          {
            id: 'store-1',
            shelves: [
              {
                id: 'shelf-1',
                serial: SERIAL,
                agent: 'pi-1',
                lanes: [
                  { id: 'L0', channels: [0], sku: 'cola', capacity: 20 },
                  { id: 'L1', channels: [1], sku: 'chips', capacity: 20 },
                  { id: 'L2', channels: [2], sku: 'gum', capacity: 40 },
                ],
              },
            ],
          },
        ],
        timing: { offlineAfterMs: 60_000 },
        replenishment: {
          defaults: { reorderPoint: 4, debounceMs: 1_500, hysteresis: 1 },
          lanes: [{ site: 'store-1', shelf: 'shelf-1', lane: 'L1', debounceMs: 8_000 }],
          tickMs: 500,
          receipt: { moveWindowMs: 2_000 },
          webhooks: {
            suppliers: [{ supplier: 'acme', url, secret: SECRET }],
            retry: { baseMs: 200, maxMs: 1_000, maxAttempts: 50 },
            pollMs: 200,
          },
        },
      },
      dir,
    );
    const cfg = centralAgentConfig(sim, central.mqtt);
    agent = new Agent(cfg, createLogger('silent'));
    await agent.start();
    admin = await central.login('admin', 'admin-password-1');
    acme = await central.login('acme', 'acme-password-1');
    // Lane settings come from central's map; the agent counts with them.
    await waitFor(async () => (await lane('L0')).units === 8, 30_000, { what: 'first levels at central' });
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await killAll();
    await sim?.stop();
    await hooks?.stop();
  });

  it('a lane below its reorder point: exactly one order, one signed webhook; the restock receives it', async () => {
    await control({ action: 'remove', lane: 0, count: 4 }); // 8 → 4 = the reorder point
    const hook = await waitFor(() => hooks.received.find((h) => h.json.state === 'open'), 30_000, {
      what: 'the order webhook',
    });
    expect(verifyWebhook(SECRET, hook.headers, hook.body, 60_000).ok).toBe(true);
    expect(hook.json).toMatchObject({ lane: 'L0', sku: 'cola', supplier: 'acme', quantity: 16 });
    // A replayed request with an old timestamp fails the documented check.
    expect(verifyWebhook(SECRET, hook.headers, hook.body, 60_000, Date.now() + 10 * 60_000).ok).toBe(false);
    expect(await ordersOf('L0')).toHaveLength(1);

    const id = (await ordersOf('L0'))[0]!.id;
    expect((await central.api(`/api/orders/${id}/acknowledge`, acme, { method: 'POST' })).status).toBe(200);
    expect((await central.api(`/api/orders/${id}/ship`, acme, { method: 'POST', body: '{}' })).status).toBe(
      200,
    );
    await control({ action: 'add', lane: 0, count: 16 });
    await waitFor(async () => ['received', 'closed'].includes((await ordersOf('L0'))[0]!.state), 30_000, {
      what: 'the shelf to confirm the delivery',
    });
    const o = (await ordersOf('L0'))[0]!;
    expect(o.receivedQuantity).toBe(16);
    const states = hooks.received.filter((h) => h.json.orderId === id).map((h) => h.json.state);
    expect(states.slice(0, 3)).toEqual(['open', 'acknowledged', 'shipped']);
    expect(states).toContain('received');
    const keys = hooks.received.map((h) => h.headers['idempotency-key'] ?? h.json.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(await ordersOf('L0')).toHaveLength(1);
  }, 90_000);

  it('[no false orders] an unplugged cell and a dip shorter than the debounce never order', async () => {
    await control({ action: 'unplug', channel: 2 });
    await waitFor(async () => (await lane('L2')).status === 'sensor-fault', 20_000, {
      what: 'sensor fault on L2',
    });
    // A dip below the reorder point that comes back within L1's 8 s debounce.
    const dip = await control({ action: 'remove', lane: 1, count: 7 });
    await waitFor(async () => (await lane('L1')).units === 3, 20_000, { what: 'L1 at 3' });
    await control({ action: 'add', lane: 1, count: 7 });
    await waitFor(async () => (await lane('L1')).units === 10, 20_000, { what: 'L1 back at 10' });
    expect(sim.shelf(SERIAL).engine.nextSeq - dip.appliesFromSeq).toBeLessThan(8 * 80);
    expect(await ordersOf('L1')).toHaveLength(0);
    expect(await ordersOf('L2')).toHaveLength(0);
    await control({ action: 'replug', channel: 2 });
  }, 90_000);

  it('[nothing lost] central kill -9 mid-debounce and after ordering: one order, every reading stored', async () => {
    await control({ action: 'remove', lane: 1, count: 7 }); // 10 → 3, L1 debounce 8 s
    await waitFor(async () => (await lane('L1')).units === 3, 20_000, { what: 'L1 at 3' });
    await central.kill(); // mid-debounce
    for (let i = 0; i < 3; i++) await control({ action: 'remove', lane: 0, count: 1 }); // readings in flight
    await central.restart();
    admin = await central.login('admin', 'admin-password-1');
    await waitFor(async () => (await ordersOf('L1')).length === 1, 30_000, {
      what: 'the L1 order after restart',
    });
    await central.kill(); // after ordering
    await control({ action: 'remove', lane: 2, count: 1 });
    await central.restart();
    admin = await central.login('admin', 'admin-password-1');
    await waitFor(async () => (await lane('L0')).units === 17, 30_000, {
      what: 'picks made while central was down',
    });
    await waitFor(() => agent.outboxStats?.queued === 0, 30_000, { what: 'the agent outbox to drain' });
    expect(await ordersOf('L1')).toHaveLength(1);
    const l1Opened = () => hooks.received.filter((h) => h.json.lane === 'L1' && h.json.state === 'open');
    await waitFor(() => l1Opened().length >= 1, 30_000, { what: 'the L1 order webhook' });
    expect(l1Opened()).toHaveLength(1);

    await central.stop();
    const db = new Database(join(dir, 'central', 'central.db'), { readonly: true });
    const seqs = (
      db.prepare("SELECT seq FROM readings WHERE agent = 'pi-1' ORDER BY seq").all() as { seq: number }[]
    ).map((r) => r.seq);
    db.close();
    expect(seqs[0]).toBe(1);
    expect(seqs.at(-1)).toBe(agent.outboxStats?.lastSeq);
    expect(seqs).toHaveLength(seqs.at(-1) as number); // contiguous: no reading lost
  }, 120_000);
});
