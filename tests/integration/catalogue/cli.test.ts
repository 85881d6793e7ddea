/**
 * `shelfsense config export|apply`, the compiled CLI against a real central.yaml and SQLite store
 * file: an export of the store's catalogue applies back as "no changes"; a dry run prints the diff
 * and changes nothing; a bad field exits 2 naming it and changes nothing; a lane given another SKU
 * cancels its open order with the reason, in the same transaction as the new version, and the
 * supplier's webhook outbox has the cancel event.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCatalogue } from '@shelfsense/central/catalogue';
import { OrderService } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import { type CatalogueInput, CentralConfig, type OrderEvent } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runCli } from '../../helpers/proc.js';
import { SECRET, smallInput } from '../../unit/central/catalogue/fixtures.js';

const cli = (args: string[]) => runCli('cli/dist/main.js', ['config', ...args], 30_000);

let dir: string;
let yaml: string;
let db: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-catalogue-cli-'));
  yaml = join(dir, 'central.yaml');
  db = join(dir, 'data', 'central.db');
  writeFileSync(yaml, stringify({ dataDir: join(dir, 'data'), http: { port: 0 }, ...smallInput() }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = () => CentralConfig.parse(parse(readFileSync(yaml, 'utf8')));

function withStore<T>(fn: (store: Store) => T): T {
  const store = Store.open({ file: db });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Seeds the store from central.yaml and opens an order on shelf-a/L0 (cola-330, acme). */
function seededWithOrder(): string {
  return withStore((store) => {
    ensureCatalogue(store, config());
    const r = new OrderService(store).openForLane({
      site: 'store-1',
      shelf: 'shelf-a',
      lane: 'L0',
      sku: 'cola-330',
      supplier: 'acme',
      quantity: 12,
      reason: { trigger: 'rules', units: 2 },
    });
    return r.order.id;
  });
}

/** What a test compares before and after a command that must change nothing. */
const snapshot = () =>
  withStore((s) => ({
    version: s.catalogue.version(),
    catalogue: s.catalogue.current()?.catalogue,
    orders: s.orders.list().map((o) => [o.id, o.state]),
    outbox: s.outbox.list().length,
  }));

function writeCatalogue(name: string, edit: (c: CatalogueInput) => void): string {
  const c = smallInput();
  edit(c);
  const file = join(dir, name);
  writeFileSync(file, stringify(c));
  return file;
}

const toFanta = (c: CatalogueInput) => {
  c.sites![0]!.shelves![0]!.lanes[0]!.sku = 'fanta-330';
};

describe('shelfsense config', () => {
  it('`config --help` and each command’s --help print usage with examples; no command is exit 2', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: shelfsense config <export\|apply>/);
    expect(top.stdout).toContain('Examples:');
    for (const sub of ['export', 'apply']) {
      const r = await cli([sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: shelfsense config ${sub}`));
      expect(r.stdout).toContain(`shelfsense config ${sub} `);
    }
    expect((await cli([])).code).toBe(2);
    const bad = await cli(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    expect((await cli(['apply', '--no-such-flag'])).code).toBe(2);
    const noFile = await cli(['apply']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('FILE is required');
  });

  it('[round trip] an export of the store’s catalogue applies back as "no changes", writing nothing', async () => {
    seededWithOrder();
    // The store's catalogue differs from central.yaml's: the export must read the store.
    const v2 = writeCatalogue('v2.yaml', (c) => {
      c.skus![0]!.unitWeightG = 353;
    });
    expect((await cli(['apply', v2, '--config', yaml, '--actor', 'alice'])).code).toBe(0);
    const out = join(dir, 'export.yaml');
    const exported = await cli(['export', '--config', yaml, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^# Shelfsense catalogue version 2, applied .* by alice/);
    expect(text).toContain('unitWeightG: 353');
    expect(statSync(out).mode & 0o777).toBe(0o600); // it holds the webhook secrets
    const before = snapshot();
    const again = await cli(['apply', out, '--config', yaml]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('no changes');
    expect(again.stdout).toContain('nothing to apply');
    expect(snapshot()).toEqual(before);
    // Without --out, the same text goes to stdout.
    expect((await cli(['export', '--config', yaml])).stdout.trim()).toBe(text.trim());
  });

  it('exports central.yaml’s catalogue, without creating the store, when there is none yet', async () => {
    const r = await cli(['export', '--config', yaml]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the store has none yet');
    expect(parse(r.stdout).skus).toHaveLength(3);
    expect(existsSync(db)).toBe(false);
  });

  it('[dry run changes nothing] prints the diff and the order it would cancel; store untouched', async () => {
    const id = seededWithOrder();
    const file = writeCatalogue('fanta.yaml', (c) => {
      toFanta(c);
      c.replenishment!.webhooks!.suppliers![0]!.secret = 'rotated-secret-0123456789';
    });
    const before = snapshot();
    const r = await cli(['apply', file, '--config', yaml, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `~ lane store-1/shelf-a/L0: sku cola-330 → fanta-330 (cancels order ${id}: lane given to another SKU)`,
    );
    expect(r.stdout).toContain('~ webhook acme: secret changed');
    expect(r.stdout).toContain('1 open order cancelled');
    expect(r.stdout).toContain('dry run: nothing applied');
    expect(r.stdout + r.stderr).not.toContain('rotated-secret');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(snapshot()).toEqual(before);
    expect(before.orders).toEqual([[id, 'open']]);
  });

  it('a dry run with no store file yet diffs against central.yaml and creates no file', async () => {
    const file = writeCatalogue('fanta.yaml', toFanta);
    const r = await cli(['apply', file, '--config', yaml, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('~ lane store-1/shelf-a/L0: sku cola-330 → fanta-330');
    expect(existsSync(db)).toBe(false);
  });

  it('[bad field → exit 2, nothing applied] each error names the file and the field', async () => {
    seededWithOrder();
    const before = snapshot();
    const file = writeCatalogue('bad.yaml', (c) => {
      toFanta(c);
      c.skus![0]!.unitWeightG = -1;
      c.skus![2]!.supplier = 'nobody';
    });
    const r = await cli(['apply', file, '--config', yaml]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: skus.0.unitWeightG: Too small`);
    expect(r.stderr).toContain(`${file}: skus.2.supplier: unknown supplier "nobody"`);
    expect(r.stderr).toContain('nothing applied');
    expect(r.stdout).toBe('');
    expect(snapshot()).toEqual(before);
    // A field of the process settings is not a catalogue field.
    const extra = writeCatalogue('extra.yaml', (c) => Object.assign(c, { dataDir: '/elsewhere' }));
    const e = await cli(['apply', extra, '--config', yaml]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/extra\.yaml: \(root\): Unrecognized key: "dataDir"/);
    expect(snapshot()).toEqual(before);
  });

  it('[lane given to another SKU] apply cancels its open order with the reason, in the same version', async () => {
    const id = seededWithOrder();
    const file = writeCatalogue('fanta.yaml', toFanta);
    const r = await cli(['apply', file, '--config', yaml, '--actor', 'alice']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`(cancels order ${id}: lane given to another SKU)`);
    expect(r.stdout).toContain('applied as version 2');
    withStore((store) => {
      expect(store.catalogue.version()).toBe(2);
      const current = store.catalogue.current();
      expect(current?.actor).toBe('alice');
      expect(current?.catalogue.sites[0]?.shelves[0]?.lanes[0]?.sku).toBe('fanta-330');
      expect(store.catalogue.history(1)[0]?.summary).toEqual({
        added: 0,
        changed: 1,
        removed: 0,
        cancelled: 1,
        kept: 0,
      });
      expect(store.orders.get(id)?.state).toBe('cancelled');
      expect(store.catalogue.cancellation(id)).toEqual({ version: 2, reason: 'lane given to another SKU' });
      // Written as any cancel is: the order event and the supplier's webhook outbox row.
      const events = new OrderService(store).events(id).map((e) => e.state);
      expect(events).toEqual(['open', 'cancelled']);
      const outbox = store.outbox.list({ orderId: id });
      expect(outbox.map((e) => [e.supplier, e.state, (JSON.parse(e.body) as OrderEvent).state])).toEqual([
        ['acme', 'pending', 'open'],
        ['acme', 'pending', 'cancelled'],
      ]);
    });
  });

  it('apply on a store with no catalogue keeps central.yaml’s as version 1, the file as version 2', async () => {
    const file = writeCatalogue('fanta.yaml', toFanta);
    const r = await cli(['apply', file, '--config', yaml, '--actor', 'alice']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('stored first, as version 1');
    withStore((store) => {
      expect(store.catalogue.history().map((h) => [h.version, h.actor])).toEqual([
        [2, 'alice'],
        [1, 'central.yaml'],
      ]);
      expect(store.catalogue.get(1)?.catalogue.sites[0]?.shelves[0]?.lanes[0]?.sku).toBe('cola-330');
    });
  });
});
