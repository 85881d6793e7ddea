/**
 * The demo without `--webhook` at its default log level (warn): each order makes four or five
 * events, none of which can be sent. Central says so once per supplier, with what to do, and the
 * outbox metric counts the skipped deliveries — the terminal does not fill with one warning per
 * event. The real demo, in process, with its default loop timings sped up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demo } from '../../broker/src/central/demo.js';
import { startDemo } from '../../broker/src/central/demo.js';
import { DEMO_SITE } from '../../broker/src/central/demo-setup.js';
import { defaultMounts } from '../../broker/src/central/mounts.js';
import { captureLog } from '../helpers/log-capture.js';
import { waitFor } from '../helpers/wait.js';

const WARN = 40;

describe('[demo log] no webhook configured: one warning per supplier, not one per order event', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-webhook-log-'));
  const capture = captureLog('info');
  capture.log.level = 'warn'; // the demo's default
  let demo: Demo;

  beforeAll(async () => {
    demo = await startDemo(
      {
        dir,
        httpPort: 0,
        mqttPort: 0,
        speed: 10,
        logLevel: 'warn',
        mounts: defaultMounts,
        supplier: 'auto',
        supplierDelayMs: 300,
        deliveryDelayMs: 300,
        itemMs: 100,
      },
      capture.log,
    );
  }, 60_000);

  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[once per supplier] an order taken from open to received warns once, naming --webhook', async () => {
    const orders = demo.central.orders!;
    const first = await waitFor(() => orders.list({ site: DEMO_SITE })[0], 90_000, {
      intervalMs: 100,
      what: 'the first order of the demo',
    });
    await waitFor(
      () => {
        const o = orders.get(first.id)!;
        return o.state === 'received' || o.state === 'closed';
      },
      60_000,
      { intervalMs: 100, what: `order ${first.id} to be received by weight` },
    );
    // Every event of that order has been through the webhook worker (skipped, as nobody listens).
    const outbox = orders.outbox;
    const skipped = await waitFor(
      () => {
        const mine = outbox.list({ orderId: first.id });
        return mine.length >= 4 && mine.every((e) => e.state === 'skipped') ? mine : null;
      },
      10_000,
      { intervalMs: 50, what: `the events of ${first.id} to be skipped` },
    );
    expect(skipped.length).toBeGreaterThanOrEqual(4);

    const warnings = capture.entries.filter((e) => e.level === WARN && /no webhook/.test(e.msg));
    const bySupplier = new Map<string, number>();
    for (const w of warnings) {
      const s = (w as { supplier?: string }).supplier ?? '?';
      bySupplier.set(s, (bySupplier.get(s) ?? 0) + 1);
    }
    expect(bySupplier.get(first.supplier)).toBe(1);
    expect([...bySupplier.values()].every((n) => n === 1)).toBe(true);
    expect(warnings[0]?.msg).toMatch(/--webhook URL/);
    expect(warnings[0]?.msg).toMatch(/replenishment\.webhooks\.suppliers/);

    // The skipped deliveries are counted where operators look.
    const metrics = await (await fetch(new URL('/metrics', demo.urls.dashboard))).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith('shelfsense_central_webhook_outbox{state="skipped"}'));
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(skipped.length);
  }, 160_000);
});
