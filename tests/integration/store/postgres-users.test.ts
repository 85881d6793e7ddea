/**
 * The users of the cluster's web nodes on a real Postgres: each node is a UserStore
 * (`pgUserStore`) on a SyncPgStore of its own, on one schema. The UserStore contract
 * (tests/contract/users) runs with every store a separate node; then what only shared rows can
 * show — the token secret made once whoever asks first, races two nodes settle in the schema,
 * and what the tables keep. The SyncPgStore thread runs central's built script (dist/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserStore } from '@shelfsense/broker';
import {
  importUsers,
  type PgUserStoreOptions,
  pgUserStore,
  TOKEN_SECRET_NAME,
} from '@shelfsense/central/cluster';
import { PgStore, SyncPgStore } from '@shelfsense/central/pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHEAP, PASSWORD, userStoreContract } from '../../contract/users/user-store.contract.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** Web nodes on one schema, each with its own SyncPgStore. */
function nodes(schema = server.schema()) {
  const syncs: SyncPgStore[] = [];
  const stores: UserStore[] = [];
  return {
    schema,
    open(o: PgUserStoreOptions = {}): UserStore {
      const sync = SyncPgStore.open({ url: server.url, schema, poolSize: 2 });
      syncs.push(sync);
      const s = pgUserStore(sync, { scrypt: CHEAP, ...o });
      stores.push(s);
      return s;
    },
    syncs,
    async close() {
      for (const s of stores) s.close();
      for (const s of syncs) s.close();
    },
  };
}

describe('UserStore on Postgres, one node per store', () => {
  userStoreContract(async () => nodes());
});

describe('users shared by web nodes', () => {
  let cluster: ReturnType<typeof nodes>;
  let a: UserStore;
  let b: UserStore;
  beforeEach(async () => {
    cluster = nodes();
    a = cluster.open();
    b = cluster.open();
    await a.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('[secret] both nodes sign with the one secret of the schema; another schema’s is another', async () => {
    const [s1, s2] = cluster.syncs.map((s) =>
      Buffer.from(s.repo<PgStore['secrets']>('secrets').secret(TOKEN_SECRET_NAME)),
    );
    expect(s1?.length).toBe(32);
    expect(s1?.equals(s2 as Buffer)).toBe(true);
    const token = a.issueToken('op', 60_000);
    expect(b.verifyToken(token).user).toBe('op');
    const elsewhere = nodes();
    try {
      const c = elsewhere.open();
      await c.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
      expect(() => c.verifyToken(token)).toThrow(/bad signature/);
    } finally {
      await elsewhere.close();
    }
  });

  it('[secret] created once when many processes ask at the same time, and never replaced', async () => {
    const schema = server.schema();
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => PgStore.open({ url: server.url, schema, poolSize: 2 })),
    );
    try {
      const secrets = await Promise.all(
        stores.flatMap((s) => [s.secrets.secret(TOKEN_SECRET_NAME), s.secrets.secret(TOKEN_SECRET_NAME)]),
      );
      const hex = new Set(secrets.map((s) => s.toString('hex')));
      expect(hex.size).toBe(1);
      const again = await (stores[0] as PgStore).secrets.secret(TOKEN_SECRET_NAME);
      expect(again.toString('hex')).toBe([...hex][0]);
      const rows = await (stores[0] as PgStore).db.query('SELECT name FROM secrets');
      expect(rows).toEqual([{ name: TOKEN_SECRET_NAME }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('[race] the same name added on two nodes at once: one wins, the other is told it exists', async () => {
    const results = await Promise.allSettled([
      a.add('pi', { role: 'agent', site: 'A', agent: 'pi' }, PASSWORD),
      b.add('pi', { role: 'agent', site: 'B', agent: 'pi' }, PASSWORD),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'SHELF_ERR_USER_EXISTS' });
    expect(a.list().map((u) => u.name)).toEqual(['op', 'pi']);
  });

  it('[race] reset links issued on two nodes at once: the user holds one, and only it works', async () => {
    const schema = cluster.schema;
    const [p1, p2] = await Promise.all([
      PgStore.open({ url: server.url, schema, poolSize: 2 }),
      PgStore.open({ url: server.url, schema, poolSize: 2 }),
    ]);
    const s1 = p1 as PgStore;
    const s2 = p2 as PgStore;
    try {
      const now = Date.now();
      for (let round = 0; round < 10; round++) {
        await Promise.all([
          s1.users.issueReset(`h1-${round}`, 'op', now, now + 60_000),
          s2.users.issueReset(`h2-${round}`, 'op', now, now + 60_000),
        ]);
        const rows = await s1.db.query<{ hash: string }>('SELECT hash FROM reset_tokens WHERE name = $1', [
          'op',
        ]);
        expect(rows).toHaveLength(1);
        const live = (rows[0] as { hash: string }).hash;
        const dead = live.startsWith('h1') ? `h2-${round}` : `h1-${round}`;
        expect(await s1.users.findReset(dead, now)).toBeNull();
        expect(await s2.users.findReset(live, now)).toBe('op');
      }
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  it('[stored] the tables keep an scrypt hash and a token’s SHA-256, never a password or a token', async () => {
    const { token } = a.issueResetToken('op');
    const pg = await PgStore.open({ url: server.url, schema: cluster.schema, poolSize: 1 });
    try {
      const dump = JSON.stringify([
        await pg.db.query('SELECT * FROM users'),
        await pg.db.query('SELECT * FROM reset_tokens'),
      ]);
      expect(dump).toContain('scrypt$');
      expect(dump).not.toContain(PASSWORD);
      expect(dump).not.toContain(token.slice(5));
    } finally {
      await pg.close();
    }
    expect(await b.resetPassword(token, 'another long secret')).toBe('op');
  });

  it('[import] users.db’s users come over with their passwords and state; names already there stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shelfsense-import-'));
    try {
      const local = new UserStore(dir, { scrypt: CHEAP, now: () => 5_000 });
      await local.add('root', { role: 'admin' }, PASSWORD);
      await local.add('gone', { role: 'supplier', supplier: 'X' }, PASSWORD);
      local.setDisabled('gone', true);
      await local.add('op', { role: 'admin' }, 'op’s other password');
      local.close();
      expect(importUsers(join(dir), cluster.syncs[0] as SyncPgStore)).toEqual({
        copied: ['gone', 'root'],
        kept: ['op'],
      });
      expect((await b.login('root', PASSWORD, { channel: 'http' })).identity?.grant).toEqual({
        role: 'admin',
      });
      expect(b.get('gone')).toMatchObject({ disabled: true, tokensAfter: 5_000, createdAt: 5_000 });
      expect(b.get('op')?.grant).toEqual({ role: 'operator', sites: ['A'] });
      expect(importUsers(dir, cluster.syncs[1] as SyncPgStore).copied).toEqual([]);
      expect(() => importUsers(join(dir, 'nowhere'), cluster.syncs[0] as SyncPgStore)).toThrow(
        /no .*users\.db/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
