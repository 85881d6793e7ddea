/**
 * The catalogue a real central runs with: central.yaml's seeds an empty store as version 1; once
 * the store holds a catalogue, a restarted central takes the store's newest version (applied as
 * `shelfsense config apply` does) and says that central.yaml's copy differs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central } from '@shelfsense/central';
import { applyCatalogue } from '@shelfsense/central/catalogue';
import { Store } from '@shelfsense/central/store';
import {
  type CentralConfig,
  CentralConfig as CentralConfigSchema,
  catalogueOf,
  parseWith,
} from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../helpers/log-capture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function config(dataDir: string): CentralConfig {
  return parseWith(
    CentralConfigSchema,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
      suppliers: [{ id: 'acme' }, { id: 'crunchy' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 120, supplier: 'crunchy' },
      ],
      sites: [
        {
          id: 's1',
          shelves: [
            { id: 'a', serial: 'SA', agent: 'pi-1', lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] },
          ],
        },
      ],
    },
    'test central config',
  );
}

async function run(cfg: CentralConfig) {
  const capture = captureLog('debug');
  const central = new Central({ config: cfg, logger: capture.log });
  await central.start();
  return { central, entries: capture.entries };
}

describe('the catalogue a central runs with', () => {
  it('seeds an empty store from central.yaml, then runs the store’s newest version after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-start-'));
    dirs.push(dir);
    const cfg = config(dir);

    const first = await run(cfg);
    expect(first.central.catalogueVersion).toBe(1);
    expect(first.central.map.supplierOf('s1', 'a', 'L0')).toBe('acme');
    await first.central.stop();

    // What `shelfsense config apply` does: the lane now holds chips, from the other supplier.
    const next = structuredClone(catalogueOf(cfg));
    next.sites[0]!.shelves[0]!.lanes[0]!.sku = 'chips';
    const store = Store.open({ file: join(dir, 'central.db') });
    expect(applyCatalogue(store, cfg, next, { actor: 'admin' }).version).toBe(2);
    store.close();

    const second = await run(cfg);
    try {
      expect(second.central.catalogueVersion).toBe(2);
      expect(second.central.map.supplierOf('s1', 'a', 'L0')).toBe('crunchy');
      expect(second.central.config.sites[0]!.shelves[0]!.lanes[0]!.sku).toBe('chips');
      const warned = second.entries.filter((e) => e.level === 40 && /differs from the store/.test(e.msg));
      expect(warned).toHaveLength(1);
    } finally {
      await second.central.stop();
    }
  });
});
