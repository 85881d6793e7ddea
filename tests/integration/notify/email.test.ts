/**
 * Notifications end to end, on real parts: central with its MQTT broker, store, rules and API; an
 * agent's status and levels over MQTT; a real SMTP server (smtp-server) whose messages are read
 * back with mailparser; chat webhooks on a real HTTP server. The notify part reads a clock the test
 * drives, so quiet hours and retries run in no time.
 *
 * Proves: settings per user with role defaults and validated input; a shelf going offline and a
 * stock-out reach exactly the users whose grant covers the site, as one digest; a purchase order
 * reaches only its own supplier; failures are retried; quiet hours hold a notice until their end;
 * a restart of central between queueing and sending loses nothing and sends nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Central } from '@shelfsense/central';
import { type CentralConfig, type NotificationSettings, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import {
  type Api,
  api,
  ChatSink,
  centralConfig,
  PASSWORD,
  SmtpSink,
  startCentral,
  TestClock,
} from './harness.js';

/** 22:30 in Berlin: tech-a's quiet hours (22:00–07:00 there) have begun. */
const NIGHT = Date.parse('2026-01-15T21:30:00Z');
const MORNING = Date.parse('2026-01-16T06:00:00Z');

const smtp = new SmtpSink();
const chat = new ChatSink();
const clock = new TestClock(NIGHT);
let dir: string;
let config: CentralConfig;
let central: Central;
let http: Api;
const clients: MqttClient[] = [];

async function agent(name: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqttPort}`, {
    username: name,
    password: PASSWORD,
    clientId: `${name}-${clients.length}`,
  });
  clients.push(c);
  return c;
}

const bodyOf = (r: { body: unknown }) => r.body as NotificationSettings;
const issues = (r: { body: unknown }) =>
  ((r.body as { error: { issues?: { path: string }[] } }).error.issues ?? []).map((i) => i.path);

beforeAll(async () => {
  await smtp.start();
  await chat.start();
  dir = mkdtempSync(join(tmpdir(), 'notify-email-'));
  config = centralConfig(dir, smtp.port, chat);
  central = await startCentral(config, clock, true);
  http = api(central);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await central?.stop();
  await smtp.stop();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('notifications by e-mail and chat, on real parts', () => {
  it('[NOTIFY-SETTINGS] role defaults until saved; a bad kind, time zone or address is a 400 naming it, and changes nothing', async () => {
    const op = await http.login('op-a@example.com');
    const opView = bodyOf(await http.call('GET', '/api/me/notifications', op));
    expect(opView).toMatchObject({
      kinds: ['stock-out', 'shelf-offline', 'sensor-fault', 'discrepancy'],
      email: 'op-a@example.com',
      digestMinutes: 0,
      quietHours: null,
      saved: false,
      emailEnabled: true,
    });
    expect(opView.available).toHaveLength(8);
    const sup = await http.login('sup-x@example.com');
    expect(bodyOf(await http.call('GET', '/api/me/notifications', sup))).toMatchObject({
      kinds: ['purchase-order', 'discrepancy'],
      available: ['purchase-order', 'discrepancy'],
    });

    const tech = await http.login('tech-a');
    const before = bodyOf(await http.call('GET', '/api/me/notifications', tech));
    expect(before).toMatchObject({ kinds: ['shelf-offline', 'sensor-fault'], email: null, saved: false });
    const good = {
      kinds: ['shelf-offline', 'sensor-fault'],
      email: 'tech-a@mail.example',
      digestMinutes: 0,
      quietHours: { from: '22:00', to: '07:00', timeZone: 'Europe/Berlin' },
    };
    const bad: [unknown, string[]][] = [
      [{ ...good, kinds: ['shelf-offline', 'nope'] }, ['kinds.1']],
      [
        { ...good, quietHours: { ...good.quietHours, timeZone: 'Mars/Olympus_Mons' } },
        ['quietHours.timeZone'],
      ],
      [{ ...good, email: 'not an address' }, ['email']],
      [{ ...good, quietHours: { from: '25:00', to: '07:00', timeZone: 'UTC' } }, ['quietHours.from']],
      [{ ...good, digestMinutes: -5 }, ['digestMinutes']],
      [{ ...good, colour: 'red' }, ['']],
      // Valid kinds, but not for this role.
      [{ ...good, kinds: ['purchase-order'] }, ['kinds.0']],
    ];
    for (const [body, paths] of bad) {
      const r = await http.call('PUT', '/api/me/notifications', tech, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(issues(r)).toEqual(paths);
    }
    expect(bodyOf(await http.call('GET', '/api/me/notifications', tech))).toEqual(before);
    const saved = await http.call('PUT', '/api/me/notifications', tech, good);
    expect(saved.status).toBe(200);
    expect(bodyOf(saved)).toMatchObject({ ...good, saved: true, updatedAt: expect.any(Number) });
    expect(bodyOf(await http.call('GET', '/api/me/notifications', tech))).toEqual(bodyOf(saved));

    // The admin chooses purchase orders (of every supplier); op-b keeps its role's defaults.
    const admin = await http.login('admin@example.com');
    const r = await http.call('PUT', '/api/me/notifications', admin, {
      kinds: ['purchase-order'],
      email: 'boss@example.com',
    });
    expect(r.status).toBe(200);
    // The change is in the audit trail.
    const trail = central.centralStore?.audit.list({ action: 'notifications.changed' }) ?? [];
    expect(trail.map((e) => e.actor).sort()).toEqual(['admin@example.com', 'tech-a']);
  });

  it('[NOTIFY-OFFLINE] a shelf going offline: one digest to the site’s operator, a chat post per lane; no one else', async () => {
    const a = await agent('agent-a');
    await a.publishAsync(
      topics.status('A', 'agent-a'),
      JSON.stringify({ agent: 'agent-a', site: 'A', state: 'offline', ts: Date.now() }),
      { qos: 1 },
    );
    const [mail] = await waitFor(
      () => (smtp.to('op-a@example.com').length ? smtp.to('op-a@example.com') : null),
      10_000,
      {
        what: "op-a's digest",
      },
    );
    expect(mail?.subject).toBe('Shelfsense: 2 notices: Shelf a1 at A offline (lane l1) (+1 more)');
    expect(mail?.from).toBe('"Shelfsense" <shelfsense@example.com>');
    expect(mail?.to).toEqual(['op-a@example.com']);
    expect(mail?.user).toBe('shelfsense');
    expect(mail?.text).toContain('1. Shelf offline: Shelf a1 at A offline (lane l1)');
    expect(mail?.text).toContain('2. Shelf offline: Shelf a1 at A offline (lane l2)');
    expect(mail?.text).toContain('the shelf agent is offline');
    expect(mail?.text).toContain('https://shelfsense.example.com/technician');
    expect(mail?.html).toContain('<a href="https://shelfsense.example.com/technician">');
    await waitFor(() => chat.on('/ops').length === 2, 5_000, { what: 'two chat posts' });
    expect(chat.on('/ops').map((p) => p.body)).toEqual([
      { text: expect.stringContaining('Shelf a1 at A offline (lane l1)') },
      { text: expect.stringContaining('Shelf a1 at A offline (lane l2)') },
    ]);
    expect(chat.on('/ops')[0]?.headers['idempotency-key']).toMatch(/^alert:alr_.*:ops$/);
    // B's operator, the suppliers and the admin (purchase orders only) hear nothing; the
    // technician's quiet hours hold its digest.
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails.flatMap((m) => m.rcpt)).toEqual(['op-a@example.com']);
    expect(chat.on('/site-b')).toEqual([]);
    const held = central.centralStore?.notifications.list({ recipient: 'tech-a' }) ?? [];
    expect(held.map((e) => [e.state, e.dueAt])).toEqual([
      ['pending', MORNING],
      ['pending', MORNING],
    ]);
  });

  it('[NOTIFY-STOCKOUT] a stock-out at B: B’s operator, and the JSON hook of site B', async () => {
    const b = await agent('agent-b');
    await b.publishAsync(
      topics.level('B', 'b1', 'l1'),
      JSON.stringify({
        agent: 'agent-b',
        serial: 'SB1',
        sku: 'x-cola',
        units: 0,
        grams: 0.4,
        fill: 0,
        stable: true,
        confidence: 0.99,
        state: 'ok',
        ts: Date.now(),
        seq: 1,
        frameSeq: 1,
      }),
      { qos: 1 },
    );
    const [mail] = await waitFor(
      () => (smtp.to('op-b@example.com').length ? smtp.to('op-b@example.com') : null),
      10_000,
      {
        what: "op-b's stock-out",
      },
    );
    expect(mail?.subject).toBe('Shelfsense: 1 notice: Stock-out of Cola 0.33 l at B/b1/l1');
    expect(mail?.text).toContain('SKU x-cola (Cola 0.33 l), supplier X');
    const [json] = await waitFor(() => (chat.on('/site-b').length ? chat.on('/site-b') : null), 5_000);
    expect(json?.body).toMatchObject({
      kind: 'stock-out',
      site: 'B',
      shelf: 'b1',
      lane: 'l1',
      supplier: 'X',
      url: 'https://shelfsense.example.com/operator',
    });
    await waitFor(() => chat.on('/ops').length === 3, 5_000);
    // Suppliers see no alerts, even of their own SKU.
    expect(smtp.to('sup-x@example.com')).toEqual([]);
    expect(smtp.to('op-a@example.com')).toHaveLength(1);
  });

  it('[NOTIFY-SUPPLIER] a purchase order reaches its own supplier only, once; a notice naming no supplier reaches no supplier', async () => {
    const notifier = central.services.notifier;
    if (!notifier) throw new Error('no notifier');
    const po = {
      kind: 'purchase-order' as const,
      key: 'po:PO-7:sent',
      site: 'A',
      supplier: 'X',
      subject: 'Purchase order PO-7 for A',
      text: '18 × Cola 0.33 l',
      ts: Date.now(),
      link: '/supplier',
    };
    expect(notifier.publish(po)).toEqual({ status: 'queued', messages: 2 });
    expect(notifier.publish(po)).toEqual({ status: 'duplicate', messages: 0 });
    await waitFor(
      () => smtp.to('sup-x@example.com').length === 1 && smtp.to('boss@example.com').length === 1,
      10_000,
    );
    expect(smtp.to('sup-x@example.com')[0]?.subject).toBe('Shelfsense: 1 notice: Purchase order PO-7 for A');
    const discrepancy = {
      kind: 'discrepancy' as const,
      key: 'discrepancy:d1',
      site: 'A',
      subject: 'Delivery to A short by 2',
      text: '',
      ts: Date.now(),
    };
    expect(notifier.publish(discrepancy)).toEqual({ status: 'queued', messages: 1 });
    await waitFor(() => smtp.to('op-a@example.com').length === 2, 10_000);
    expect(notifier.publish({ ...discrepancy, key: '', subject: '' })).toMatchObject({ status: 'invalid' });
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.to('sup-y@example.com')).toEqual([]);
    expect(smtp.to('sup-x@example.com')).toHaveLength(1);
  });

  it('[NOTIFY-RETRY] a relay saying "try later" and a busy chat hook are retried with backoff, then delivered once', async () => {
    const notifier = central.services.notifier;
    if (!notifier) throw new Error('no notifier');
    smtp.refuseNext = 2;
    chat.failNext = 1;
    const before = { mail: smtp.to('op-b@example.com').length, ops: chat.on('/ops').length };
    notifier.publish({
      kind: 'stock-out',
      key: 'manual:stock-out:B',
      site: 'B',
      shelf: 'b1',
      lane: 'l2',
      supplier: 'Y',
      subject: 'Stock-out of Chips at B/b1/l2',
      text: '',
      ts: Date.now(),
    });
    // Each retry is due on the test's clock: move it on until both went out.
    await waitFor(
      () => {
        clock.t += 100;
        return smtp.to('op-b@example.com').length > before.mail && chat.on('/ops').length > before.ops;
      },
      10_000,
      { intervalMs: 50, what: 'the retried e-mail and chat post' },
    );
    expect(smtp.refuseNext).toBe(0);
    expect(chat.failNext).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${central.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/shelfsense_central_notifications_failed_total\{channel="email"\} 2\b/);
    expect(metrics).toMatch(/shelfsense_central_notifications_failed_total\{channel="chat"\} 1\b/);
    expect(metrics).toMatch(/shelfsense_central_notifications_sent_total\{channel="email"\} [5-9]\b/);
    expect(metrics).toMatch(/shelfsense_central_notification_queue\{channel="email",state="pending"\} 2\b/);
    clock.t = NIGHT + 60_000;
  });

  it('[NOTIFY-QUIET-RESTART] quiet hours hold a digest to their end, across a restart: nothing lost, nothing twice', async () => {
    const sentBefore = smtp.mails.length;
    const postsBefore = chat.posts.length;
    expect(smtp.to('tech-a@mail.example')).toEqual([]);
    await central.stop();
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
    // Still night when central comes back: the digest stays held.
    central = await startCentral(config, clock, false);
    http = api(central);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.mails.length).toBe(sentBefore);
    // Morning in Berlin: the sender finds the digest due at its next look.
    clock.t = MORNING;
    const [mail] = await waitFor(
      () => (smtp.to('tech-a@mail.example').length ? smtp.to('tech-a@mail.example') : null),
      10_000,
      {
        what: "tech-a's held digest",
      },
    );
    expect(mail?.subject).toBe('Shelfsense: 2 notices: Shelf a1 at A offline (lane l1) (+1 more)');
    // Times are shown in the user's own zone.
    expect(mail?.text).toMatch(/GMT\+[12]/);
    await new Promise((r) => setTimeout(r, 500));
    // Exactly one more message: the held digest. Nothing was sent again after the restart (the
    // alerts the restarted central found live were notified before: their keys are known).
    expect(smtp.mails.length).toBe(sentBefore + 1);
    expect(chat.posts.length).toBe(postsBefore);
    const pending = central.centralStore?.notifications.list({ state: 'pending' }) ?? [];
    expect(pending).toEqual([]);
  });
});
