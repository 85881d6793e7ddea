/**
 * The notification queue in the central store, one suite run on SQLite (a file, two connections)
 * and on a real Postgres (two pools, and the synchronous store central's parts use): a notice's
 * key is seen once, a user's pending e-mails are claimed together as one digest once the earliest
 * is due, a claimed entry is leased from every other claimer, failures wait for their retry or go
 * dead, and nothing pending is pruned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Notice, NotificationsRepository } from '@shelfsense/central/notify';
import { PgStore, SyncPgStore } from '@shelfsense/central/pg';
import { Store } from '@shelfsense/central/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

type Repo = {
  [K in keyof NotificationsRepository]: NotificationsRepository[K] extends (...a: infer A) => infer T
    ? (...a: A) => Promise<Awaited<T>>
    : never;
};

interface Opened {
  repo: Repo;
  /** A second connection to the same data (another central process). */
  other: Repo;
  close(): Promise<void>;
}

const T = 1_800_000_000_000;

const notice = (key: string, over: Partial<Notice> = {}): Notice => ({
  kind: 'shelf-offline',
  key,
  site: 'A',
  shelf: 'a1',
  lane: 'l1',
  subject: `notice ${key}`,
  text: 'text',
  ts: T,
  ...over,
});

/** A synchronous repository seen through promises, as the suite awaits every call. */
const promised = (r: NotificationsRepository): Repo =>
  new Proxy(r, {
    get: (target, key) => {
      const v = (target as unknown as Record<string | symbol, unknown>)[key];
      return typeof v === 'function' ? (...a: unknown[]) => Promise.resolve(v.apply(target, a)) : v;
    },
  }) as unknown as Repo;

function suite(name: string, open: () => Promise<Opened>) {
  describe(`notification queue: ${name}`, () => {
    const withRepo = (fn: (o: Opened) => Promise<void>) => async () => {
      const o = await open();
      try {
        await fn(o);
      } finally {
        await o.close();
      }
    };

    it(
      '[QUEUE-1] a key is queued once; settings round-trip',
      withRepo(async ({ repo, other }) => {
        const entries = [
          { channel: 'email' as const, recipient: 'op-a', dueAt: T },
          { channel: 'chat' as const, recipient: 'ops', dueAt: T },
        ];
        expect(await repo.addNotice(notice('k1'), entries, T)).toBe(true);
        expect(await other.addNotice(notice('k1', { subject: 'again' }), entries, T + 1)).toBe(false);
        const all = await repo.list();
        expect(all.map((e) => [e.channel, e.recipient, e.state, e.notice.subject])).toEqual([
          ['email', 'op-a', 'pending', 'notice k1'],
          ['chat', 'ops', 'pending', 'notice k1'],
        ]);
        expect(await repo.counts()).toEqual([
          { channel: 'chat', state: 'pending', n: 1 },
          { channel: 'email', state: 'pending', n: 1 },
        ]);
        const s = {
          user: 'op-a',
          kinds: ['stock-out' as const],
          email: 'op@example.com',
          digestMinutes: 15,
          quietHours: { from: '22:00', to: '07:00', timeZone: 'Europe/Berlin' },
          updatedAt: T,
        };
        await repo.saveSettings(s);
        expect(await other.settings('op-a')).toEqual(s);
        await other.saveSettings({ ...s, kinds: [], email: null, quietHours: null, updatedAt: T + 5 });
        expect(await repo.allSettings()).toEqual([
          { ...s, kinds: [], email: null, quietHours: null, updatedAt: T + 5 },
        ]);
        expect(await repo.settings('nobody')).toBeUndefined();
      }),
    );

    it(
      '[QUEUE-2] a digest: all of a user’s pending e-mails once the earliest is due, leased from others',
      withRepo(async ({ repo, other }) => {
        const email = (recipient: string, dueAt: number) => [{ channel: 'email' as const, recipient, dueAt }];
        await repo.addNotice(notice('a1'), email('alice', T + 1_000), T);
        await repo.addNotice(notice('a2'), email('alice', T + 60_000), T);
        await repo.addNotice(notice('a3'), email('alice', T + 90_000), T);
        await repo.addNotice(notice('b1'), email('bob', T + 5_000), T);
        expect(await repo.nextDueAt()).toBe(T + 1_000);
        expect(await repo.claimDigests(T, 10, 30_000, 10)).toEqual([]);
        const first = await repo.claimDigests(T + 1_000, 10, 30_000, 2);
        expect(first.map((b) => [b.recipient, b.entries.map((e) => e.notice.key)])).toEqual([
          ['alice', ['a1', 'a2']],
        ]);
        expect(first[0]?.entries.every((e) => e.attempts === 1 && e.batch === first[0]?.batch)).toBe(true);
        // Leased: the other process finds alice's digest taken (her third entry waits for it).
        const bob = await other.claimDigests(T + 10_000, 10, 30_000, 10);
        expect(bob).toEqual([expect.objectContaining({ recipient: 'bob' })]);
        await other.markSent(bob[0]?.entries.map((e) => e.id) ?? [], T + 11_000);
        expect(await other.markSent(first[0]?.entries.map((e) => e.id) ?? [], T + 2_000)).toBe(2);
        // Sent twice changes nothing.
        expect(await repo.markSent(first[0]?.entries.map((e) => e.id) ?? [], T + 3_000)).toBe(0);
        const rest = await repo.claimDigests(T + 90_000, 10, 30_000, 10);
        expect(rest.map((b) => [b.recipient, b.entries.map((e) => e.notice.key)])).toEqual([
          ['alice', ['a3']],
        ]);
      }),
    );

    it(
      '[QUEUE-3] a failed digest waits for its retry, then goes dead; released ones are due again',
      withRepo(async ({ repo }) => {
        await repo.addNotice(notice('c1'), [{ channel: 'email', recipient: 'carol', dueAt: T }], T);
        const [b] = await repo.claimDigests(T, 10, 30_000, 10);
        const ids = b?.entries.map((e) => e.id) ?? [];
        expect(await repo.markFailed(ids, 'relay down', T + 10_000, T + 1)).toBe(1);
        // A new notice for carol joins the retry, not an earlier message.
        await repo.addNotice(notice('c2'), [{ channel: 'email', recipient: 'carol', dueAt: T + 2 }], T + 2);
        expect(await repo.claimDigests(T + 5_000, 10, 30_000, 10)).toEqual([]);
        const [again] = await repo.claimDigests(T + 10_000, 10, 30_000, 10);
        expect(again?.entries.map((e) => [e.notice.key, e.attempts, e.lastError])).toEqual([
          ['c1', 2, 'relay down'],
          ['c2', 1, null],
        ]);
        // Given back (central stopping, or quiet hours): not an attempt, and due when asked.
        await repo.release(again?.entries.map((e) => e.id) ?? [], T + 10_001, T + 50_000);
        expect(await repo.claimDigests(T + 20_000, 10, 30_000, 10)).toEqual([]);
        const [third] = await repo.claimDigests(T + 50_000, 10, 30_000, 10);
        expect(third?.entries.map((e) => e.attempts)).toEqual([2, 1]);
        await repo.markFailed(third?.entries.map((e) => e.id) ?? [], 'refused for good', null, T + 50_001);
        expect((await repo.list({ recipient: 'carol' })).map((e) => e.state)).toEqual(['dead', 'dead']);
        expect(await repo.nextDueAt()).toBeNull();
      }),
    );

    it(
      '[QUEUE-4] chat entries one at a time; dropped ones never go; pending ones are never pruned',
      withRepo(async ({ repo, other }) => {
        await repo.addNotice(notice('d1'), [{ channel: 'chat', recipient: 'ops', dueAt: T }], T);
        await repo.addNotice(notice('d2'), [{ channel: 'chat', recipient: 'ops', dueAt: T }], T);
        await repo.addNotice(notice('d3'), [{ channel: 'email', recipient: 'dave', dueAt: T }], T);
        const one = await repo.claimEach('chat', T, 1, 30_000);
        const two = await other.claimEach('chat', T, 5, 30_000);
        expect([...one, ...two].map((b) => [b.channel, b.entries.map((e) => e.notice.key)])).toEqual([
          ['chat', ['d1']],
          ['chat', ['d2']],
        ]);
        await repo.markSent(one[0]?.entries.map((e) => e.id) ?? [], T + 1);
        await repo.markDropped(two[0]?.entries.map((e) => e.id) ?? [], 'hook removed', T + 1);
        expect(await repo.claimEach('chat', T + 100_000, 5, 30_000)).toEqual([]);
        // d1 and d2 are done and old; d3 is still pending.
        expect(await repo.prune(T + 1)).toBe(2);
        expect((await repo.list()).map((e) => e.notice.key)).toEqual(['d3']);
        // A pruned key is a new notice again: prune only past the catch-up window.
        expect(await repo.addNotice(notice('d1'), [], T + 2)).toBe(true);
      }),
    );
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

suite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'notify-store-'));
  dirs.push(dir);
  const a = Store.open(join(dir, 'central.db'));
  const b = Store.open(join(dir, 'central.db'));
  return {
    repo: promised(a.notifications),
    other: promised(b.notifications),
    async close() {
      a.close();
      b.close();
    },
  };
});

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

suite('Postgres', async () => {
  const schema = server.schema();
  const a = await PgStore.open({ url: server.url, schema, poolSize: 4 });
  const b = await PgStore.open({ url: server.url, schema, poolSize: 4 });
  return {
    repo: a.notifications,
    other: b.notifications,
    async close() {
      await a.close();
      await b.close();
    },
  };
});

describe('notification queue: Postgres, concurrently', () => {
  it('[QUEUE-5] claimers racing on the same rows never take an entry twice', async () => {
    const schema = server.schema();
    const stores = await Promise.all(
      [0, 1, 2].map(() => PgStore.open({ url: server.url, schema, poolSize: 4 })),
    );
    try {
      const [first] = stores as [PgStore];
      for (let i = 0; i < 60; i++) {
        await first.notifications.addNotice(
          notice(`r${i}`),
          [
            { channel: 'email', recipient: `user-${i % 12}`, dueAt: T },
            { channel: 'chat', recipient: 'ops', dueAt: T },
          ],
          T,
        );
      }
      const claimed: number[] = [];
      for (let round = 0; round < 10; round++) {
        const batches = (
          await Promise.all(
            stores.flatMap((s) => [
              s.notifications.claimDigests(T, 3, 60_000, 100),
              s.notifications.claimEach('chat', T, 7, 60_000),
            ]),
          )
        ).flat();
        claimed.push(...batches.flatMap((b) => b.entries.map((e) => e.id)));
      }
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(120);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('[QUEUE-6] central’s synchronous Postgres store carries the repository', async () => {
    const schema = server.schema();
    const store = SyncPgStore.open({ url: server.url, schema, poolSize: 2 });
    try {
      const added = store.transaction(() =>
        store.notifications.addNotice(notice('s1'), [{ channel: 'email', recipient: 'sam', dueAt: T }], T),
      );
      expect(added).toBe(true);
      const [b] = store.notifications.claimDigests(T, 1, 1_000, 10);
      expect(b?.entries[0]?.notice).toEqual(notice('s1'));
    } finally {
      store.close();
    }
  });
});
