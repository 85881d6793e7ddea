/**
 * The store contract suites (tests/contract/store) against the Postgres store, on a real server
 * started for this file (tests/helpers/postgres.ts): each store gets a schema of its own, and a
 * second connection is a second PgStore on that schema, as another worker process would open.
 * What only the Postgres schema can prove is in postgres-schema.test.ts.
 */
import { PgStore, type PgStore as PgStoreType } from '@shelfsense/central/pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { auditContract } from '../../contract/store/audit.contract.js';
import { storeContract } from '../../contract/store/store.contract.js';
import type { StoreFactory } from '../../contract/store/types.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const openPg: StoreFactory = async (o = {}) => {
  const schema = server.schema();
  const open = () => PgStore.open({ url: server.url, schema, poolSize: 4, ...o });
  const stores: PgStoreType[] = [await open()];
  return {
    store: stores[0] as PgStoreType,
    async connect() {
      const s = await open();
      stores.push(s);
      return s;
    },
    async close() {
      for (const s of stores) await s.close();
    },
  };
};

describe('Postgres central store', () => {
  storeContract(openPg);
  auditContract(async (o) => {
    const s = await openPg(o);
    return {
      repo: s.store.audit,
      store: s.store,
      connect: async () => (await s.connect()).audit,
      close: () => s.close(),
    };
  });
});
