/**
 * The sender against an in-memory store and stand-in transports: a digest is checked again when
 * it goes (a user removed, disabled or moved to another supplier gets nothing it may no longer
 * see), quiet hours set after queueing still hold it, a relay refusing for good ends it at once,
 * and a chat hook removed from the config drops its posts.
 */
import {
  type MailMessage,
  type MailTransport,
  type Notice,
  NotificationSender,
  Notifier,
  type Recipient,
  type SendOutcome,
} from '@shelfsense/central/notify';
import { Store } from '@shelfsense/central/store';
import { CentralConfig, type Grant } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';

const T = Date.parse('2026-01-15T12:00:00Z');

class Users {
  readonly byName = new Map<string, Recipient>();
  add(name: string, grant: Grant): void {
    this.byName.set(name, { name, grant, disabled: false });
  }
  list(): Recipient[] {
    return [...this.byName.values()];
  }
  get(name: string): Recipient | undefined {
    return this.byName.get(name);
  }
}

class Mailbox implements MailTransport {
  readonly sent: MailMessage[] = [];
  next: SendOutcome[] = [];
  async send(m: MailMessage): Promise<SendOutcome> {
    const out = this.next.shift() ?? { ok: true };
    if (out.ok) this.sent.push(m);
    return out;
  }
  close(): void {}
}

const config = (over: object = {}) =>
  CentralConfig.parse({
    notifications: {
      smtp: { host: 'relay', from: 'shelfsense@example.com' },
      chat: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', kinds: ['purchase-order'] }],
      ...over,
    },
  }).notifications as NonNullable<CentralConfig['notifications']>;

const po = (key: string, supplier = 'X'): Notice => ({
  kind: 'purchase-order',
  key,
  site: 'A',
  supplier,
  subject: `PO ${key}`,
  text: '',
  ts: T,
});

const opened: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.stop();
});

function setup(over: object = {}) {
  const store = Store.open(':memory:');
  const users = new Users();
  const mail = new Mailbox();
  const clock = { t: T, now: () => clock.t };
  const chats: string[] = [];
  const cfg = config(over);
  const sender = new NotificationSender({
    repo: store.notifications,
    config: cfg,
    mail,
    chat: async (r) => {
      chats.push(r.body);
      return { ok: true };
    },
    users: () => users,
    clock,
  });
  const notifier = new Notifier({
    store,
    config: cfg,
    users: () => users,
    clock,
    onQueued: () => sender.notify(),
  });
  opened.push({
    async stop() {
      await sender.stop();
      store.close();
    },
  });
  sender.start();
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      sender.notify();
      await new Promise((r) => setTimeout(r, 20));
      await sender.idle();
    }
  };
  return { store, users, mail, clock, chats, sender, notifier, settle };
}

describe('notification sender', () => {
  it('[SEND-1] checked again when it goes: removed, disabled or moved users get nothing they may no longer see', async () => {
    const { users, mail, notifier, settle, store, sender } = setup();
    users.add('x1@example.com', { role: 'supplier', supplier: 'X' });
    users.add('x2@example.com', { role: 'supplier', supplier: 'X' });
    users.add('x3@example.com', { role: 'supplier', supplier: 'X' });
    await sender.stop();
    expect(notifier.publish(po('1'))).toEqual({ status: 'queued', messages: 4 });
    users.byName.delete('x1@example.com');
    users.add('x2@example.com', { role: 'supplier', supplier: 'Y' });
    (users.byName.get('x3@example.com') as Recipient).disabled = true;
    sender.start();
    await settle();
    expect(mail.sent).toEqual([]);
    expect(
      store.notifications.list({ channel: 'email' }).map((e) => [e.recipient, e.state, e.lastError]),
    ).toEqual([
      ['x1@example.com', 'dropped', 'no such user'],
      ['x2@example.com', 'dropped', 'no longer subscribed, or out of the user’s scope'],
      ['x3@example.com', 'dropped', 'user disabled'],
    ]);
    expect(sender.counters.dropped.email).toBe(3);
  });

  it('[SEND-2] quiet hours chosen after queueing still hold the digest; it goes at their end', async () => {
    const { users, mail, notifier, settle, store, clock } = setup();
    users.add('x@example.com', { role: 'supplier', supplier: 'X' });
    // Queued under the role's defaults (at once, to the user name), then, before it goes, the
    // user gives an address and quiet hours of 11:00–13:00 UTC.
    notifier.publish(po('2'));
    expect(store.notifications.list()[0]?.dueAt).toBe(T);
    store.notifications.saveSettings({
      user: 'x@example.com',
      kinds: ['purchase-order'],
      email: 'x@mail.example',
      digestMinutes: 0,
      quietHours: { from: '11:00', to: '13:00', timeZone: 'UTC' },
      updatedAt: T,
    });
    await settle();
    expect(mail.sent).toEqual([]);
    expect(store.notifications.list()[0]?.dueAt).toBe(Date.parse('2026-01-15T13:00:00Z'));
    clock.t = Date.parse('2026-01-15T13:00:00Z');
    await settle();
    expect(mail.sent.map((m) => [m.to, m.subject])).toEqual([
      ['x@mail.example', 'Shelfsense: 1 notice: PO 2'],
    ]);
  });

  it('[SEND-3] a relay refusing for good ends the digest; a removed chat hook drops its post', async () => {
    const { users, mail, notifier, settle, store, chats } = setup({ chat: [] });
    users.add('x@example.com', { role: 'supplier', supplier: 'X' });
    mail.next = [{ ok: false, error: '550 no such mailbox', permanent: true, status: 550 }];
    notifier.publish(po('3'));
    await settle();
    expect(store.notifications.list().map((e) => [e.state, e.attempts, e.lastError])).toEqual([
      ['dead', 1, '550 no such mailbox'],
    ]);
    // Queued for a hook the config has no more (config applied to this sender only).
    store.notifications.addNotice(po('4'), [{ channel: 'chat', recipient: 'gone', dueAt: T }], T);
    await settle();
    expect(chats).toEqual([]);
    expect(store.notifications.list({ channel: 'chat' }).map((e) => e.state)).toEqual(['dropped']);
  });
});
