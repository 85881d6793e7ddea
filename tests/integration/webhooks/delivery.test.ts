import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { OrderService } from '@shelfsense/central/orders';
import type { WebhooksConfig } from '@shelfsense/central/rules';
import { Store } from '@shelfsense/central/store';
import { type AttemptOutcome, WebhookWorker } from '@shelfsense/central/webhooks';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { Ajv } from 'ajv';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from '../../unit/central/store/fixtures.js';
import { nextEvent, type Receiver, seeded, startReceiver } from './receiver.js';

const SECRET = 'acme-secret-0123456789abcdef';
const TOLERANCE = 60_000;

function webhooks(url: string, retry: Record<string, unknown> = {}): WebhooksConfig {
  return ReplenishmentConfig.parse({
    webhooks: {
      suppliers: [{ supplier: 'acme', url, secret: SECRET }],
      retry: { baseMs: 20, maxMs: '200ms', jitter: 0.5, maxAttempts: 50, ...retry },
      timeoutMs: '2s',
      pollMs: 100,
      toleranceMs: TOLERANCE,
    },
  }).webhooks;
}

describe('webhooks: signed, retried, dead-lettered, durable delivery to a real HTTP receiver', () => {
  let tmp: TempDir;
  let receiver: Receiver;
  let store: Store;
  let orders: OrderService;
  let worker: WebhookWorker | null;

  beforeEach(async () => {
    tmp = tempDir('shelfsense-webhooks-');
    receiver = await startReceiver(SECRET, TOLERANCE);
    store = Store.open(tmp.file());
    worker = null;
    orders = new OrderService(store, { onEvent: () => worker?.notify() });
  });
  afterEach(async () => {
    await worker?.stop();
    store.close();
    await receiver.down();
    tmp.remove();
  });

  function startWorker(retry?: Record<string, unknown>): WebhookWorker {
    worker = new WebhookWorker({ store, config: webhooks(receiver.url, retry), random: seeded(7) });
    worker.start();
    return worker;
  }

  const open = (lane = 'l1', supplier = 'acme') =>
    orders.openForLane({
      ...LANE,
      lane,
      sku: 'cola-330',
      supplier,
      quantity: 12,
      reason: { trigger: 'rules' },
    }).order;

  it('delivers each order event as signed JSON that the receiver verifies, in order', async () => {
    const w = startWorker();
    const first = nextEvent<AttemptOutcome>(w, 'delivered');
    const order = open();
    await first;
    const second = nextEvent<AttemptOutcome>(w, 'delivered');
    orders.transition(order.id, 'acknowledged', { actor: { user: 'acme-bot', role: 'supplier' } });
    await second;

    expect(receiver.requests.map((r) => [r.status, r.verdict.ok])).toEqual([
      [200, true],
      [200, true],
    ]);
    const [req] = receiver.requests;
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['idempotency-key']).toBe(`${order.id}:open`);
    expect(req?.headers['shelfsense-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(req?.headers['shelfsense-event-id']).toMatch(/^evt_/);
    // Standard Webhooks headers, verified by the reference library as a supplier would; each body
    // as the published JSON Schema describes it.
    expect(req?.headers['webhook-id']).toBe(req?.headers['shelfsense-event-id']);
    const wh = new Webhook(SECRET, { format: 'raw' });
    const schema = new Ajv({ allErrors: true, strict: true }).compile(
      JSON.parse(
        readFileSync(new URL('../../../schemas/webhook-order-event.schema.json', import.meta.url), 'utf8'),
      ),
    );
    for (const r of receiver.requests) {
      const body = wh.verify(r.body, r.headers as Record<string, string>);
      expect(body).toEqual(JSON.parse(r.body));
      expect(schema(body), JSON.stringify(schema.errors)).toBe(true);
    }
    expect(schema({ ...JSON.parse(req!.body), quantity: -1 })).toBe(false);
    expect([...receiver.processed.values()].map((e) => [e.orderId, e.state, e.quantity])).toEqual([
      [order.id, 'open', 12],
      [order.id, 'acknowledged', 12],
    ]);
    expect(orders.outbox.counts()).toMatchObject({ pending: 0, delivered: 2 });
  });

  it('[at least once] receiver failing, then down, then up: delivered once up, with the same idempotency key', async () => {
    receiver.mode = 'fail';
    const w = startWorker();
    const failed = nextEvent<AttemptOutcome>(w, 'retry', (o) => o.status === 500);
    const order = open();
    await failed;
    await receiver.down();
    // Connection refused now: still retried, with backoff.
    await nextEvent<AttemptOutcome>(w, 'retry', (o) => o.status === null);
    receiver.mode = 'ok';
    const delivered = nextEvent<AttemptOutcome>(w, 'delivered');
    await receiver.up();
    const outcome = await delivered;

    expect(outcome.entry.attempts).toBeGreaterThanOrEqual(3);
    const keys = new Set(receiver.requests.map((r) => r.headers['idempotency-key']));
    expect(keys).toEqual(new Set([`${order.id}:open`]));
    expect(receiver.requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(receiver.processed.size).toBe(1);
    expect(orders.outbox.get(outcome.entry.id)).toMatchObject({ state: 'delivered', lastStatus: 200 });
  });

  it('dead-letters an event after the attempt limit, visibly, and delivers it once re-queued', async () => {
    receiver.mode = 'fail';
    const w = startWorker({ maxAttempts: 3 });
    const dead = nextEvent<AttemptOutcome>(w, 'dead');
    open();
    const outcome = await dead;
    expect(outcome).toMatchObject({ status: 500, error: expect.stringMatching(/HTTP 500/) });
    expect(receiver.requests).toHaveLength(3);
    expect(orders.outbox.dead()).toEqual([
      expect.objectContaining({ id: outcome.entry.id, state: 'dead', attempts: 3, lastStatus: 500 }),
    ]);
    expect(orders.outbox.nextDueAt()).toBeNull();
    expect(w.counters).toMatchObject({ dead: 1, retried: 2, attempts: 3 });

    receiver.mode = 'ok';
    const delivered = nextEvent<AttemptOutcome>(w, 'delivered');
    orders.outbox.requeue(outcome.entry.id, Date.now());
    w.notify();
    await delivered;
    expect(receiver.processed.size).toBe(1);
  });

  it('[replay] a captured request replayed later fails verification (stale timestamp)', async () => {
    const w = startWorker();
    const delivered = nextEvent<AttemptOutcome>(w, 'delivered');
    open();
    await delivered;
    const captured = receiver.requests[0];
    if (!captured) throw new Error('nothing captured');
    const replay = () =>
      new Promise<number>((resolve, reject) => {
        const headers = Object.fromEntries(
          [
            'content-type',
            'shelfsense-timestamp',
            'shelfsense-signature',
            'idempotency-key',
            'shelfsense-event-id',
          ].map((h) => [h, String(captured.headers[h])]),
        );
        const req = request(receiver.url, { method: 'POST', headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(captured.body);
      });
    // Replayed at once it verifies, and the idempotency key keeps it from being processed twice.
    expect(await replay()).toBe(200);
    expect(receiver.processed.size).toBe(1);
    // Replayed after the tolerance (the receiver's clock has moved on): rejected.
    receiver.clockOffsetMs = TOLERANCE + 1_000;
    expect(await replay()).toBe(401);
    expect(receiver.requests.at(-1)?.verdict).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('[nothing lost] the outbox survives closing and reopening the store: pending events go out after a restart', async () => {
    await receiver.down();
    const w = startWorker();
    const failed = nextEvent<AttemptOutcome>(w, 'retry');
    const order = open();
    const first = await failed;
    await w.stop();
    worker = null;
    store.close();

    store = Store.open(tmp.file());
    const pending = new OrderService(store).outbox.list({ state: 'pending' });
    expect(pending).toEqual([
      expect.objectContaining({ eventId: first.entry.eventId, idempotencyKey: `${order.id}:open` }),
    ]);
    const attemptsBefore = pending[0]?.attempts ?? 0;
    expect(attemptsBefore).toBeGreaterThanOrEqual(1);
    await receiver.up();
    const w2 = startWorker();
    const outcome = await nextEvent<AttemptOutcome>(w2, 'delivered');
    expect(outcome.entry.eventId).toBe(first.entry.eventId);
    // The attempt count carried over the restart.
    expect(outcome.entry.attempts).toBe(attemptsBefore + 1);
    expect([...receiver.processed.keys()]).toEqual([`${order.id}:open`]);
  });

  it('marks events for a supplier without a webhook as skipped', async () => {
    const w = startWorker();
    const skipped = nextEvent<AttemptOutcome>(w, 'skipped');
    open('l1', 'globex');
    const o = await skipped;
    expect(orders.outbox.get(o.entry.id)).toMatchObject({
      state: 'skipped',
      lastError: expect.stringMatching(/no webhook/),
    });
    expect(receiver.requests).toEqual([]);
  });
});
