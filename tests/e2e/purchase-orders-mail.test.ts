/**
 * The purchase-order cycle with its notifications, on real parts: central with its MQTT broker,
 * rules, store, API and notify part; an agent's readings over MQTT; a real SMTP server read back
 * with mailparser. A lane falls below its reorder point: its need joins the store's draft for the
 * supplier; the operator sends it, and the supplier's user gets the new PO by e-mail. The
 * supplier ships; the shelf counts the delivery short, which opens a discrepancy, and both the
 * supplier and the store's operator are told. The other supplier hears of none of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Central } from '@shelfsense/central';
import {
  type ApiDiscrepancy,
  type ApiPurchaseOrder,
  CentralConfig,
  type CentralConfigInput,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import {
  type Api,
  api,
  ChatSink,
  centralConfig,
  PASSWORD,
  SmtpSink,
  startCentral,
  TestClock,
} from '../integration/notify/harness.js';

const smtp = new SmtpSink();
const chat = new ChatSink();
let dir: string;
let central: Central;
let http: Api;
let agent: MqttClient;
let seq = 0;

function level(units: number, grams = units * 350 + 0.4) {
  seq++;
  const payload = { agent: 'agent-a', serial: 'SA1', sku: 'x-cola', units, grams, fill: units / 24 };
  return JSON.stringify({
    ...payload,
    stable: true,
    confidence: 0.99,
    state: 'ok',
    ts: Date.now(),
    seq,
    frameSeq: seq,
  });
}

function restock(delta: number, units: number) {
  seq++;
  const payload = { agent: 'agent-a', serial: 'SA1', sku: 'x-cola', kind: 'restock', delta, units };
  return JSON.stringify({ ...payload, ts: Date.now(), seq, frameSeq: seq });
}

beforeAll(async () => {
  await smtp.start();
  await chat.start();
  dir = mkdtempSync(join(tmpdir(), 'po-mail-'));
  const base = centralConfig(dir, smtp.port, chat) as unknown as CentralConfigInput;
  const config = CentralConfig.parse({
    ...base,
    suppliers: [
      {
        id: 'X',
        schedule: {
          timezone: 'UTC',
          cycles: [{ cutoff: { day: 'sun', at: '23:59' }, delivery: { day: 'mon' } }],
        },
      },
      { id: 'Y' },
    ],
    replenishment: {
      defaults: { reorderPoint: 4, orderUpTo: 24, debounceMs: 0 },
      receipt: { moveWindowMs: '500ms', windowMs: '2s', closeAfterMs: 0 },
    },
  });
  central = await startCentral(config, new TestClock(Date.now()), true);
  http = api(central);
  agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqttPort}`, {
    username: 'agent-a',
    password: PASSWORD,
    clientId: 'agent-a-po',
  });
}, 60_000);

afterAll(async () => {
  await agent?.endAsync(true).catch(() => undefined);
  await central?.stop();
  await smtp.stop();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('purchase orders with notifications, on real parts', () => {
  it('[PO-MAIL] a need, a PO sent and mailed to its supplier, a short delivery mailed to both sides', async () => {
    const op = await http.login('op-a@example.com');
    const sup = await http.login('sup-x@example.com');
    await agent.publishAsync(topics.level('A', 'a1', 'l1'), level(3), { qos: 1 });
    const [draft] = await waitFor(
      async () => {
        const r = await http.call<ApiPurchaseOrder[]>('GET', '/api/purchase-orders', op);
        return r.body.length ? r.body : null;
      },
      10_000,
      { what: 'a PO' },
    );
    expect(draft?.lines.map((l) => [l.sku, l.quantity])).toEqual([['x-cola', 21]]);
    const id = draft?.id as string;
    expect((await http.call('POST', `/api/purchase-orders/${id}/send`, op, {})).status).toBe(200);

    const [mail] = await waitFor(
      () => (smtp.to('sup-x@example.com').length ? smtp.to('sup-x@example.com') : null),
      10_000,
      {
        what: "the supplier's e-mail",
      },
    );
    expect(mail?.subject).toBe('Shelfsense: 1 notice: Purchase order for A');
    expect(mail?.text).toContain('x-cola: 21');
    expect(mail?.text).toContain(`https://shelfsense.example.com/purchase-orders/${id}`);

    expect((await http.call('POST', `/api/purchase-orders/${id}/acknowledge`, sup, {})).status).toBe(200);
    expect((await http.call('POST', `/api/purchase-orders/${id}/ship`, sup, {})).status).toBe(200);
    // 15 of the 21 arrive; nothing more within the receipt window.
    await agent.publishAsync(topics.event('A', 'a1', 'l1'), restock(15, 18), { qos: 1 });
    await agent.publishAsync(topics.level('A', 'a1', 'l1'), level(18), { qos: 1 });
    const [d] = await waitFor(
      async () => {
        const r = await http.call<ApiDiscrepancy[]>('GET', '/api/discrepancies', sup);
        return r.body.length ? r.body : null;
      },
      15_000,
      { what: 'a discrepancy' },
    );
    expect(d).toMatchObject({ purchaseOrderId: id, kind: 'short', expected: 21, counted: 15 });
    await waitFor(
      () => smtp.to('sup-x@example.com').length === 2 && smtp.to('op-a@example.com').length === 1,
      10_000,
      {
        what: 'the discrepancy e-mails',
      },
    );
    for (const m of [smtp.to('sup-x@example.com')[1], smtp.to('op-a@example.com')[0]]) {
      expect(m?.subject).toBe('Shelfsense: 1 notice: Delivery short at A: x-cola');
      expect(m?.text).toContain('shipped 21, counted 15');
    }
    // The other supplier and the other store heard of none of it.
    expect(smtp.to('sup-y@example.com')).toEqual([]);
    expect(smtp.to('op-b@example.com')).toEqual([]);
  });
});
