/**
 * The store contract suites (tests/contract/store) against the SQLite store: a real database file
 * in a temp directory per test, and a second connection to the same file for the suites that ask
 * what another central process would see. Below them, what only SQLite itself can prove: the
 * audit log's triggers refuse every UPDATE and DELETE, whoever sends it.
 */
import { AsyncSqliteStore, Store } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditContract } from '../../contract/store/audit.contract.js';
import { storeContract } from '../../contract/store/store.contract.js';
import type { StoreFactory } from '../../contract/store/types.js';
import { type TempDir, tempDir } from '../../unit/central/store/fixtures.js';

// Through AsyncSqliteStore: the suites are written for the asynchronous store interface, which
// the Postgres store implements too.
const openSqlite: StoreFactory = async (o = {}) => {
  const tmp = tempDir('shelfsense-store-contract-');
  const open = () => new AsyncSqliteStore(Store.open({ file: tmp.file(), ...o }));
  const stores = [open()];
  return {
    store: stores[0] as AsyncSqliteStore,
    async connect() {
      const s = open();
      stores.push(s);
      return s;
    },
    async close() {
      for (const s of stores) await s.close();
      tmp.remove();
    },
  };
};

describe('SQLite central store', () => {
  storeContract(openSqlite);
  auditContract(async (o) => {
    const s = await openSqlite(o);
    return {
      repo: s.store.audit,
      store: s.store,
      connect: async () => (await s.connect()).audit,
      close: () => s.close(),
    };
  });
});

describe('SQLite audit log: append-only in the schema', () => {
  let tmp: TempDir;
  let store: Store;
  beforeEach(() => {
    tmp = tempDir('shelfsense-audit-sqlite-');
    store = Store.open(tmp.file());
    store.audit.append({ at: 1, actor: 'alice', role: 'admin', action: 'order.cancelled', site: 's1' });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  const rows = () => store.db.prepare('SELECT seq, actor, action FROM audit_log').all();

  it.each([
    ['UPDATE audit_log SET actor = ?', ['mallory']],
    ['UPDATE audit_log SET action = ? WHERE seq = 1', ['order.acknowledged']],
    ['DELETE FROM audit_log WHERE seq = ?', [1]],
    ['DELETE FROM audit_log', []],
    // REPLACE removes the row it collides with without firing a DELETE trigger.
    ['INSERT OR REPLACE INTO audit_log (seq, at, actor, action) VALUES (1, 2, ?, ?)', ['mallory', 'x.y']],
    ['REPLACE INTO audit_log (seq, at, actor, action) VALUES (1, 2, ?, ?)', ['mallory', 'x.y']],
    [
      'INSERT INTO audit_log (seq, at, actor, action) VALUES (1, 2, ?, ?) ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor',
      ['mallory', 'x.y'],
    ],
    ['UPDATE OR REPLACE audit_log SET seq = 7 WHERE seq = ?', [1]],
  ])('[append-only] refuses %s', (sql, args) => {
    const before = rows();
    expect(() => store.db.prepare(sql).run(...args)).toThrow(/append-only/);
    expect(rows()).toEqual(before);
  });

  it('[append-only] refuses from a second connection too, and inside a transaction that then goes on', () => {
    const other = Store.open(tmp.file());
    try {
      expect(() => other.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      // The failed statement is refused alone; the rows around it stand.
      other.transaction(() => {
        other.audit.append({ at: 2, actor: 'bob', action: 'order.open' });
        expect(() => other.db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
      });
    } finally {
      other.close();
    }
    expect(rows()).toEqual([
      { seq: 1, actor: 'alice', action: 'order.cancelled' },
      { seq: 2, actor: 'bob', action: 'order.open' },
    ]);
  });
});
