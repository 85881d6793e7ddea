/**
 * The example flow shipped in docs/flows/orders-to-erp.json works as docs/node-red.md says: a new
 * order goes to the ERP as a purchase order (with the idempotency key), the ERP's 2xx acknowledges
 * it, and the ERP's shipment call ships it (or is answered 409 with the reason).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { type Harness, startHarness } from './harness.js';

const EXAMPLE = JSON.parse(readFileSync(`${ROOT}docs/flows/orders-to-erp.json`, 'utf8')) as unknown[];

let h: Harness;
const savedEnv = process.env.ERP_URL;

beforeAll(async () => {
  h = await startHarness(
    (erpUrl) => {
      // The flow reads the ERP's address from the environment, as a deployment would set it.
      process.env.ERP_URL = erpUrl;
      return EXAMPLE;
    },
    { httpNodePath: '/hooks' },
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (savedEnv === undefined) delete process.env.ERP_URL;
  else process.env.ERP_URL = savedEnv;
});

describe('docs/flows/orders-to-erp.json', () => {
  it('[NR-EXAMPLE] a new order becomes an ERP purchase order and is acknowledged; the ERP ships it', async () => {
    const { order } = h.orders.openForLane({
      site: 's1',
      shelf: 'shelf-1',
      lane: 'lane-a',
      sku: 'cola',
      supplier: 'acme',
      quantity: 8,
      reason: { trigger: 'rules', units: 2, reorderPoint: 4, orderUpTo: 10 },
    });
    const po = await waitFor(() => h.erp.find((r) => r.path === '/purchase-orders'), 10_000, {
      what: 'the purchase order at the ERP',
    });
    expect(po.headers['idempotency-key']).toBe(`${order.id}:open`);
    expect(po.body).toMatchObject({
      reference: order.id,
      supplier: 'acme',
      sku: 'cola',
      quantity: 8,
      deliverTo: { site: 's1', shelf: 'shelf-1', lane: 'lane-a' },
    });
    await waitFor(() => h.orders.get(order.id)?.state === 'acknowledged', 10_000, { what: 'acknowledged' });

    const shipped = await fetch(`${h.base}/hooks/erp/shipped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: order.id }),
    });
    expect(shipped.status).toBe(200);
    expect(h.orders.get(order.id)).toMatchObject({ state: 'shipped', shippedQuantity: 8 });

    const again = await fetch(`${h.base}/hooks/erp/shipped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: order.id, action: 'ship', shippedQuantity: 'lots' }),
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toMatch(/shippedQuantity/);
    // Only the opening went to the ERP, not the acknowledgement or the shipment.
    expect(h.erp.filter((r) => r.path === '/purchase-orders')).toHaveLength(1);
  });
});
