/**
 * The store contract suites (tests/contract/store) against the SQLite store: a real database file
 * in a temp directory per test, and a second connection to the same file for the suites that ask
 * what another central process would see.
 */
import { Store } from '@shelfsense/central/store';
import { describe } from 'vitest';
import { storeContract } from '../../contract/store/store.contract.js';
import { tempDir } from '../../unit/central/store/fixtures.js';

describe('SQLite central store', () => {
  storeContract(async (o = {}) => {
    const tmp = tempDir('shelfsense-store-contract-');
    const open = () => Store.open({ file: tmp.file(), ...o });
    const stores = [open()];
    return {
      store: stores[0] as Store,
      async connect() {
        const s = open();
        stores.push(s);
        return s;
      },
      async close() {
        for (const s of stores) s.close();
        tmp.remove();
      },
    };
  });
});
