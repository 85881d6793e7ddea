/**
 * Who hears of a notice: the role may receive the kind, the notice lies in the grant (sites, or
 * the supplier's own supplier), and the user's settings ask for it and give an address. A supplier
 * never receives another supplier's notices, nor notices naming no supplier.
 */

import {
  emailDueAt,
  mayReceive,
  type Notice,
  type NotificationSettingsRow,
  type Recipient,
  recipientsOf,
  subscriptionOf,
} from '@shelfsense/central/notify';
import type { Grant } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

const T = Date.parse('2026-01-15T12:00:00Z');

const notice = (over: Partial<Notice> = {}): Notice => ({
  kind: 'shelf-offline',
  key: 'k1',
  site: 'A',
  shelf: 'a1',
  lane: 'l1',
  supplier: 'X',
  subject: 'Shelf a1 at A offline',
  text: '',
  ts: T,
  ...over,
});

const user = (name: string, grant: Grant, disabled = false): Recipient => ({ name, grant, disabled });

const USERS: Recipient[] = [
  user('op-a@example.com', { role: 'operator', sites: ['A'] }),
  user('op-b@example.com', { role: 'operator', sites: ['B'] }),
  user('tech-a@example.com', { role: 'technician', sites: ['A'] }),
  user('sup-x@example.com', { role: 'supplier', supplier: 'X' }),
  user('sup-y@example.com', { role: 'supplier', supplier: 'Y' }),
  user('admin@example.com', { role: 'admin' }),
  user('svc@example.com', { role: 'service' }),
  user('ha@example.com', { role: 'homeassistant', sites: ['A'] }),
  user('gone@example.com', { role: 'operator', sites: ['A'] }, true),
  user('op-a2', { role: 'operator', sites: ['A'] }),
];

const saved = (u: string, over: Partial<NotificationSettingsRow> = {}): NotificationSettingsRow => ({
  user: u,
  kinds: [],
  email: `${u.split('@')[0]}@mail.example`,
  digestMinutes: 0,
  quietHours: null,
  updatedAt: T,
  ...over,
});

const recipients = (n: Notice, settings: NotificationSettingsRow[] = []) =>
  recipientsOf(
    n,
    {
      users: USERS,
      settings: new Map(settings.map((s) => [s.user, s])),
      defaultMinutes: 0,
      email: true,
      chat: [],
    },
    T,
  )
    .filter((e) => e.channel === 'email')
    .map((e) => e.recipient);

describe('notification scope', () => {
  it('[SCOPE-1] alerts go to the operators and technicians of the site, never to suppliers', () => {
    const g = (grant: Grant) => mayReceive(grant, notice());
    expect(g({ role: 'operator', sites: ['A'] })).toBe(true);
    expect(g({ role: 'operator', sites: ['B'] })).toBe(false);
    expect(g({ role: 'technician', sites: ['B', 'A'] })).toBe(true);
    expect(g({ role: 'supplier', supplier: 'X' })).toBe(false);
    expect(g({ role: 'admin' })).toBe(true);
    expect(g({ role: 'service' })).toBe(false);
    expect(g({ role: 'homeassistant', sites: ['A'] })).toBe(false);
    expect(g({ role: 'agent', site: 'A', agent: 'pi' })).toBe(false);
  });

  it('[SCOPE-2] a supplier gets only notices naming its own supplier; none without a supplier', () => {
    const po = notice({ kind: 'purchase-order', supplier: 'X' });
    expect(mayReceive({ role: 'supplier', supplier: 'X' }, po)).toBe(true);
    expect(mayReceive({ role: 'supplier', supplier: 'Y' }, po)).toBe(false);
    const { supplier: _none, ...anonymous } = po;
    expect(mayReceive({ role: 'supplier', supplier: 'X' }, anonymous)).toBe(false);
    // A technician sees no orders, an operator those of its sites.
    expect(mayReceive({ role: 'technician', sites: ['A'] }, po)).toBe(false);
    expect(mayReceive({ role: 'operator', sites: ['A'] }, po)).toBe(true);
  });

  it('[SCOPE-3] role defaults until a user saves settings; the name is the address when it is one', () => {
    const op = subscriptionOf(USERS[0] as Recipient, undefined, 15);
    expect(op).toMatchObject({
      kinds: ['stock-out', 'shelf-offline', 'sensor-fault', 'discrepancy'],
      email: 'op-a@example.com',
      digestMinutes: 15,
      saved: false,
    });
    expect(subscriptionOf(user('t', { role: 'technician', sites: ['A'] }), undefined, 0).kinds).toEqual([
      'shelf-offline',
      'sensor-fault',
    ]);
    expect(subscriptionOf(user('s', { role: 'supplier', supplier: 'X' }), undefined, 0)).toMatchObject({
      kinds: ['purchase-order', 'discrepancy'],
      email: null,
    });
    expect(subscriptionOf(user('a@b.example', { role: 'admin' }), undefined, 0).kinds).toEqual([]);
    // A saved kind the role can no longer get (its grant changed) is not in force.
    const demoted = subscriptionOf(
      user('x', { role: 'supplier', supplier: 'X' }),
      saved('x', { kinds: ['stock-out', 'purchase-order'] }),
      0,
    );
    expect(demoted.kinds).toEqual(['purchase-order']);
  });

  it('[SCOPE-4] the recipients of a notice, by grant and settings', () => {
    expect(recipients(notice())).toEqual(['op-a@example.com', 'tech-a@example.com']);
    expect(recipients(notice({ site: 'B' }))).toEqual(['op-b@example.com']);
    // An admin chose offline notices; the technician chose none; op-a2 gave an address.
    expect(
      recipients(notice(), [
        saved('admin@example.com', { kinds: ['shelf-offline'] }),
        saved('tech-a@example.com', { kinds: [] }),
        saved('op-a2', { kinds: ['shelf-offline'] }),
      ]),
    ).toEqual(['op-a@example.com', 'admin@example.com', 'op-a2']);
    // No address: nothing.
    expect(
      recipients(notice(), [saved('op-a@example.com', { kinds: ['shelf-offline'], email: null })]),
    ).toEqual(['tech-a@example.com']);
    const po = notice({ kind: 'purchase-order', supplier: 'Y' });
    expect(recipients(po)).toEqual(['sup-y@example.com']);
  });

  it('[SCOPE-5] a digest waits its interval, then for the end of quiet hours; chat goes at once', () => {
    expect(emailDueAt({ digestMinutes: 0, quietHours: null }, T)).toBe(T);
    expect(emailDueAt({ digestMinutes: 30, quietHours: null }, T)).toBe(T + 30 * 60_000);
    // 12:00 UTC + 30 min falls in 12:00–13:00 UTC: held to 13:00.
    expect(
      emailDueAt({ digestMinutes: 30, quietHours: { from: '12:00', to: '13:00', timeZone: 'UTC' } }, T),
    ).toBe(T + 60 * 60_000);
    const entries = recipientsOf(
      notice(),
      {
        users: [],
        settings: new Map(),
        defaultMinutes: 0,
        email: false,
        chat: [
          { name: 'ops', kinds: ['shelf-offline'] },
          { name: 'site-b', kinds: ['shelf-offline'], sites: ['B'] },
          { name: 'orders', kinds: ['purchase-order'] },
        ],
      },
      T,
    );
    expect(entries).toEqual([{ channel: 'chat', recipient: 'ops', dueAt: T }]);
  });

  it('[SCOPE-6] without an SMTP relay no e-mail is queued', () => {
    const entries = recipientsOf(
      notice(),
      { users: USERS, settings: new Map(), defaultMinutes: 0, email: false, chat: [] },
      T,
    );
    expect(entries).toEqual([]);
  });
});
