/**
 * `shelfsense demo` as a user runs it: the compiled CLI with free ports, a faster scenario, short
 * supplier and delivery delays and a local webhook. It must start, raise an order that reaches the
 * supplier's webhook signed with the demo secret, close the loop unattended (the automatic supplier
 * acknowledges and ships, the goods reach the shelf, the shelf confirms the delivery by weight) —
 * for the scheduled supplier as a purchase order, one signed webhook per version from sent to
 * received — serve the dashboard page, let a demo user log in, and stop everything on Ctrl-C
 * (SIGINT) with exit code 0 and no process left behind. Its --help documents the loop's flags; a
 * bad one exits 2.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhook } from '@shelfsense/central/webhooks';
import { DEMO_SITE, DEMO_USERS, demoCentralConfig } from '@shelfsense/demo/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReceivedHook, WebhookReceiver } from '../helpers/central.js';
import { type CliProcess, killAll, runCli, shelfsense } from '../helpers/proc.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

interface Ready {
  ready: true;
  dashboard: string;
  mqtt: string;
  control: string | null;
  dir: string;
}

/** The demo's webhook secrets, per supplier, exactly as the demo configures them. */
function demoSecrets(): Map<string, string> {
  const cfg = demoCentralConfig({
    dataDir: '.',
    httpPort: 0,
    mqttPort: 0,
    webhook: 'http://127.0.0.1:1/hook',
    logLevel: 'warn',
  });
  return new Map((cfg.replenishment?.webhooks?.suppliers ?? []).map((s) => [s.supplier, s.secret]));
}

const password = (name: string) => DEMO_USERS.find((u) => u.name === name)!.password;

/** Every process descended from `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** A lane order's event (a purchase order's carries `type: purchase_order`). */
const isOrderEvent = (h: ReceivedHook) => !('type' in h.json);

describe('[shelfsense demo] everything on one machine, from start to Ctrl-C', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
  const hooks = new WebhookReceiver();
  let demo: CliProcess;
  let ready: Ready;
  let hookUrl: string;

  beforeAll(async () => {
    const base = await hooks.start();
    hookUrl = base.replace(/\/orders$/, '/hook');
    demo = shelfsense([
      'demo',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--speed',
      '20',
      '--webhook',
      hookUrl,
      '--supplier-delay',
      '500',
      '--delivery-delay',
      '0.5s',
      '--dir',
      join(dir, 'demo'),
    ]);
    ready = await demo.waitForJson<Ready>((o) => o.ready === true, 30_000);
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await hooks.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the banner with the dashboard URL and the demo logins, and keeps data in --dir', () => {
    expect(ready.dir).toBe(join(dir, 'demo'));
    expect(ready.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(ready.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const banner = demo.lines.join('\n');
    expect(banner).toContain(`Dashboard:      ${ready.dashboard}`);
    for (const u of DEMO_USERS.filter((u) => u.grant.role !== 'agent')) {
      expect(banner).toContain(u.password);
    }
    expect(existsSync(join(dir, 'demo', 'central'))).toBe(true);
  });

  it('[signed webhook] an order reaches the local webhook, signed with the demo secret', async () => {
    const hook = await waitFor(() => hooks.received.find(isOrderEvent), 90_000, {
      intervalMs: 100,
      what: 'the first order webhook',
    });
    const order = hook.json as { supplier: string; site: string; state: string; orderId: string };
    expect(order.site).toBe(DEMO_SITE);
    expect(order.state).toBe('open');
    const secrets = demoSecrets();
    const secret = secrets.get(order.supplier);
    expect(secret, `a demo secret for supplier ${order.supplier}`).toBeDefined();
    const ok = verifyWebhook(secret!, hook.headers, hook.body, 5 * 60_000);
    expect(ok).toMatchObject({
      ok: true,
      idempotencyKey: (hook.json as { idempotencyKey: string }).idempotencyKey,
    });
    // A supplier's Standard Webhooks library verifies it too (the demo's secrets are raw strings).
    expect(
      new Webhook(secret!, { format: 'raw' }).verify(hook.body, hook.headers as Record<string, string>),
    ).toEqual(hook.json);
    // The signature binds the supplier: the other supplier's secret does not verify it.
    const other = [...secrets].find(([s]) => s !== order.supplier)![1];
    expect(verifyWebhook(other, hook.headers, hook.body, 5 * 60_000)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    // Nor does a changed body.
    expect(verifyWebhook(secret!, hook.headers, `${hook.body} `, 5 * 60_000)).toMatchObject({ ok: false });
  }, 120_000);

  it('[closed loop] unattended, the first order is acknowledged, shipped and received by weight', async () => {
    const first = await waitFor(() => hooks.received.find(isOrderEvent), 90_000, {
      intervalMs: 100,
      what: 'an order',
    });
    const { orderId, supplier, quantity } = first.json as {
      orderId: string;
      supplier: string;
      quantity: number;
    };
    const secret = demoSecrets().get(supplier)!;
    const event = (state: string) =>
      waitFor(
        () =>
          hooks.received.find((h) => {
            const e = h.json as { orderId: string; state: string };
            return e.orderId === orderId && e.state === state;
          }),
        60_000,
        { intervalMs: 100, what: `the ${state} webhook of order ${orderId}` },
      );
    for (const state of ['acknowledged', 'shipped']) {
      const h = await event(state);
      expect(verifyWebhook(secret, h.headers, h.body, 5 * 60_000)).toMatchObject({ ok: true });
    }
    const received = await event('received');
    expect(verifyWebhook(secret, received.headers, received.body, 5 * 60_000)).toMatchObject({ ok: true });
    const e = received.json as { receivedQuantity: number; quantity: number };
    expect(e.quantity).toBe(quantity);
    // The shelf counted what arrived: the order, or one pack less when the supplier shipped short,
    // give or take an item a customer picked while the goods were shelved.
    expect(e.receivedQuantity).toBeGreaterThan(0);
    expect(e.receivedQuantity).toBeLessThanOrEqual(quantity + 2);
  }, 150_000);

  it('[purchase order] one signed webhook per version, from sent to received by weight', async () => {
    type PoEvent = {
      purchaseOrderId: string;
      supplier: string;
      state: string;
      version: number;
      idempotencyKey: string;
    };
    const ofPo = (h: ReceivedHook) => h.json as unknown as PoEvent;
    const received = await waitFor(
      () => hooks.received.find((h) => !isOrderEvent(h) && ofPo(h).state === 'received'),
      120_000,
      { intervalMs: 100, what: 'a purchase order received by weight' },
    );
    const { purchaseOrderId, supplier } = ofPo(received);
    const secret = demoSecrets().get(supplier)!;
    const mine = hooks.received.filter(
      (h) => !isOrderEvent(h) && ofPo(h).purchaseOrderId === purchaseOrderId,
    );
    for (const h of mine)
      expect(verifyWebhook(secret, h.headers, h.body, 5 * 60_000)).toMatchObject({ ok: true });
    const events = mine.map(ofPo).sort((a, b) => a.version - b.version);
    expect(events.map((e) => e.state).slice(0, 4)).toEqual(['sent', 'acknowledged', 'shipped', 'received']);
    // One per version: each key names its version and comes once.
    expect(events.every((e) => e.idempotencyKey === `${purchaseOrderId}:v${e.version}`)).toBe(true);
    expect(new Set(events.map((e) => e.idempotencyKey)).size).toBe(events.length);
    // The scheduled supplier's lanes send nothing of their own.
    expect(
      hooks.received.filter(isOrderEvent).some((h) => (h.json as { supplier: string }).supplier === supplier),
    ).toBe(false);
  }, 150_000);

  it('[dashboard] the dashboard URL answers with the HTML page', async () => {
    const r = await fetch(ready.dashboard);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toMatch(/<!doctype html>/i);
    expect(html).toMatch(/<script[^>]+app\.js/);
  });

  it('[login] a demo supplier logs in and sees its own orders; a wrong password is refused', async () => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(new URL(path, ready.dashboard), {
        ...init,
        headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
      });
    const bad = await api('/api/login', {
      method: 'POST',
      body: JSON.stringify({ username: 'acme', password: 'not the password' }),
    });
    expect(bad.status).toBe(401);

    const hook = await waitFor(() => hooks.received.find(isOrderEvent), 90_000, {
      intervalMs: 100,
      what: 'an order',
    });
    const supplier = (hook.json as { supplier: string }).supplier;
    const r = await api('/api/login', {
      method: 'POST',
      body: JSON.stringify({ username: supplier, password: password(supplier) }),
    });
    expect(r.status).toBe(200);
    const { token } = (await r.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    const lanes = (await (await api('/api/lanes', { headers: auth })).json()) as { supplier: string }[];
    expect(lanes.length).toBeGreaterThan(0);
    expect(lanes.every((l) => l.supplier === supplier)).toBe(true);

    const orders = (await (await api('/api/orders', { headers: auth })).json()) as { id: string }[];
    expect(orders.map((o) => o.id)).toContain((hook.json as { orderId: string }).orderId);
    // Without a token the API refuses.
    expect((await api('/api/orders')).status).toBe(401);
  }, 120_000);

  it('[help] --help documents the supplier and delivery flags; a bad value exits 2 naming the flag', async () => {
    const help = await runCli('cli/dist/main.js', ['demo', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--manual-supplier',
      '--supplier-delay',
      '--short-rate',
      '--delivery-delay',
      '--item-ms',
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const bad = await runCli('cli/dist/main.js', ['demo', '--short-rate', '1.5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--short-rate');
    const badDelay = await runCli('cli/dist/main.js', ['demo', '--delivery-delay', 'soon']);
    expect(badDelay.code).toBe(2);
    expect(badDelay.stderr).toContain('--delivery-delay');
  });

  it('[clean stop] SIGINT stops everything: exit code 0, no process left behind', async () => {
    const children = descendants(demo.pid);
    demo.child.kill('SIGINT');
    const exit = await withTimeout(demo.exited, 20_000, 'the demo to exit after SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(demo.lines).toContain('Stopping…');
    await waitFor(() => children.every((pid) => !alive(pid)), 5_000, {
      what: `the demo's child processes ${children.join(', ')} to end`,
    });
    // Nothing the demo started (a socat for a simulated port, say) still names its directory.
    const mine = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    expect(mine).toEqual([]);
    // The ports are released.
    await expect(fetch(ready.dashboard)).rejects.toThrow();
  }, 60_000);
});
