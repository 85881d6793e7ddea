/**
 * Purchase orders through the real webhook worker to a real HTTP receiver: one signed request per
 * PO version, none per lane, each body valid against the published JSON Schema.
 */
import { readFileSync } from 'node:fs';
import { OrderService, PurchaseOrderService } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import { type AttemptOutcome, WebhookWorker } from '@shelfsense/central/webhooks';
import { type CentralConfig, type PurchaseOrderEvent, ReplenishmentConfig } from '@shelfsense/protocol';
import { Ajv } from 'ajv';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from '../../unit/central/store/fixtures.js';
import { nextEvent, type Receiver, seeded, startReceiver } from './receiver.js';

const SECRET = 'acme-secret-0123456789abcdef';
const TOLERANCE = 60_000;
/** Monday 10:00 UTC; the cut-off is Monday 14:00. */
const T0 = Date.parse('2026-01-05T10:00:00Z');
const CUTOFF = Date.parse('2026-01-05T14:00:00Z');

const CONFIG = {
  suppliers: [
    {
      id: 'acme',
      schedule: {
        timezone: 'UTC',
        cycles: [{ cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'wed', at: '08:00' } }],
      },
    },
  ],
  skus: [
    { id: 'cola-330', unitWeightG: 352, supplier: 'acme' },
    { id: 'fanta-330', unitWeightG: 350, supplier: 'acme' },
  ],
  sites: [{ id: LANE.site, shelves: [] }],
} as unknown as CentralConfig;

describe('webhooks: one signed request per purchase order version', () => {
  let tmp: TempDir;
  let receiver: Receiver;
  let store: Store;
  let pos: PurchaseOrderService;
  let worker: WebhookWorker;

  beforeEach(async () => {
    tmp = tempDir('shelfsense-po-webhooks-');
    receiver = await startReceiver(SECRET, TOLERANCE);
    store = Store.open(tmp.file());
    const orders = new OrderService(store, { onEvent: () => worker.notify() });
    pos = new PurchaseOrderService(store, orders, { config: () => CONFIG, onEvent: () => worker.notify() });
    orders.gatherer = pos;
    const webhooks = ReplenishmentConfig.parse({
      webhooks: {
        suppliers: [{ supplier: 'acme', url: receiver.url, secret: SECRET }],
        retry: { baseMs: 20, maxMs: '200ms' },
        pollMs: 100,
        toleranceMs: TOLERANCE,
      },
    }).webhooks;
    worker = new WebhookWorker({ store, config: webhooks, random: seeded(3) });
    worker.start();
    for (const [lane, sku, quantity] of [
      ['l1', 'cola-330', 12],
      ['l2', 'cola-330', 6],
      ['l3', 'fanta-330', 24],
    ] as const) {
      orders.openForLane(
        { ...LANE, lane, sku, supplier: 'acme', quantity, reason: { trigger: 'rules' } },
        T0,
      );
    }
  });
  afterEach(async () => {
    await worker.stop();
    store.close();
    await receiver.down();
    tmp.remove();
  });

  it('sends nothing per lane; the PO goes out at the cut-off and again when acknowledged', async () => {
    expect(store.outbox.list()).toEqual([]);
    const sent = nextEvent<AttemptOutcome>(worker, 'delivered');
    const [po] = pos.sendDue(CUTOFF);
    await sent;
    const acked = nextEvent<AttemptOutcome>(worker, 'delivered');
    pos.acknowledge(po?.id as string, { user: 'acme-bot', role: 'supplier' }, CUTOFF + 60_000);
    await acked;

    expect(receiver.requests.map((r) => r.status)).toEqual([200, 200]);
    const wh = new Webhook(SECRET, { format: 'raw' });
    const schema = new Ajv({ allErrors: true, strict: true }).compile(
      JSON.parse(
        readFileSync(new URL('../../../schemas/webhook-purchase-order.schema.json', import.meta.url), 'utf8'),
      ),
    );
    const bodies = receiver.requests.map(
      (r) => wh.verify(r.body, r.headers as Record<string, string>) as PurchaseOrderEvent,
    );
    for (const b of bodies) expect(schema(b), JSON.stringify(schema.errors)).toBe(true);
    expect(schema({ ...bodies[0], lines: [{ sku: 'cola-330', quantity: -1, lanes: [] }] })).toBe(false);
    expect(bodies.map((b) => [b.state, b.idempotencyKey])).toEqual([
      ['sent', `${po?.id}:v${bodies[0]?.version}`],
      ['acknowledged', `${po?.id}:v${bodies[1]?.version}`],
    ]);
    expect(receiver.requests.map((r) => r.headers['idempotency-key'])).toEqual(
      bodies.map((b) => b.idempotencyKey),
    );
    expect(bodies[0]?.lines.map((l) => [l.sku, l.quantity, l.lanes.length])).toEqual([
      ['cola-330', 18, 2],
      ['fanta-330', 24, 1],
    ]);
    expect([...receiver.purchaseOrders.values()].map((e) => e.state)).toEqual(['sent', 'acknowledged']);
    expect(receiver.processed.size).toBe(0);
    expect(store.outbox.counts()).toMatchObject({ pending: 0, delivered: 2 });
  });
});
