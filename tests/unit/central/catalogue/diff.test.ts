/**
 * The catalogue diff: object by object, keyed the way orders and people name things, field by
 * field, and never a secret's value.
 */
import {
  countChanges,
  diffCatalogues,
  EMPTY_CATALOGUE,
  renderDiff,
  renderSummary,
} from '@shelfsense/central/catalogue';
import { describe, expect, it } from 'vitest';
import { copy, SECRET, small } from './fixtures.js';

describe('catalogue diff', () => {
  it('two equal catalogues: no changes', () => {
    expect(diffCatalogues(small(), small())).toEqual([]);
    expect(renderSummary([], [])).toBe('no changes');
  });

  it('the order of lists does not matter: objects are matched by their keys', () => {
    const a = small();
    const b = copy(a);
    b.skus.reverse();
    b.sites[0]!.shelves.reverse();
    b.sites[0]!.shelves[1]!.lanes.reverse();
    expect(diffCatalogues(a, b)).toEqual([]);
  });

  it('a lane given another SKU is one changed lane naming the field, with both values', () => {
    const b = copy(small());
    b.sites[0]!.shelves[0]!.lanes[0]!.sku = 'fanta-330';
    b.sites[0]!.shelves[0]!.lanes[0]!.channels = [0, 2];
    expect(diffCatalogues(small(), b)).toEqual([
      {
        kind: 'changed',
        what: 'lane',
        id: 'store-1/shelf-a/L0',
        fields: ['channels', 'sku'],
        values: { channels: { from: [0], to: [0, 2] }, sku: { from: 'cola-330', to: 'fanta-330' } },
      },
    ]);
  });

  it('shelves are keyed by site and id: a serial or agent change is a changed shelf', () => {
    const b = copy(small());
    b.sites[0]!.shelves[1]!.serial = 'SN-0099';
    b.sites[0]!.shelves[1]!.agent = 'pi-2';
    expect(diffCatalogues(small(), b)).toEqual([
      expect.objectContaining({
        kind: 'changed',
        what: 'shelf',
        id: 'store-1/shelf-b',
        fields: ['serial', 'agent'],
      }),
    ]);
  });

  it('a site added or removed lists its shelves and lanes too', () => {
    const b = copy(small());
    b.sites.push({
      id: 'store-2',
      shelves: [
        {
          id: 'shelf-a',
          serial: 'SN-0200',
          agent: 'pi-9',
          lanes: [{ id: 'L0', channels: [0], sku: 'chips' }],
        },
      ],
    });
    const added = diffCatalogues(small(), b);
    expect(added.map((c) => `${c.kind} ${c.what} ${c.id}`)).toEqual([
      'added site store-2',
      'added shelf store-2/shelf-a',
      'added lane store-2/shelf-a/L0',
    ]);
    const removed = diffCatalogues(b, small());
    expect(removed.map((c) => `${c.kind} ${c.what} ${c.id}`)).toEqual([
      'removed site store-2',
      'removed shelf store-2/shelf-a',
      'removed lane store-2/shelf-a/L0',
    ]);
    expect(countChanges(removed)).toEqual({ added: 0, changed: 0, removed: 3 });
  });

  it('suppliers, SKUs, policies and webhooks', () => {
    const b = copy(small());
    b.suppliers.push({ id: 'fizz' });
    b.skus[2]!.supplier = 'fizz';
    b.replenishment.defaults.reorderPoint = 5;
    b.replenishment.skus = [];
    b.replenishment.lanes[0]!.reorderPoint = 7;
    b.replenishment.webhooks.suppliers[0]!.url = 'https://erp.acme.example/v2';
    const lines = renderDiff(diffCatalogues(small(), b), []);
    expect(lines).toEqual([
      '+ supplier fizz',
      '~ sku chips: supplier crunchy → fizz',
      '~ policy defaults: reorderPoint 4 → 5',
      '~ policy lane store-1/shelf-a/L0: reorderPoint 6 → 7',
      '- policy sku chips',
      '~ webhook acme: url https://erp.acme.example/hook → https://erp.acme.example/v2',
    ]);
  });

  it('[no secret printed] a changed webhook secret is named, its values never copied or rendered', () => {
    const b = copy(small());
    const next = 'rotated-secret-9876543210';
    b.replenishment.webhooks.suppliers[0]!.secret = next;
    const changes = diffCatalogues(small(), b);
    expect(changes).toEqual([
      { kind: 'changed', what: 'webhook', id: 'acme', fields: ['secret'], values: {} },
    ]);
    const text = JSON.stringify(changes) + renderDiff(changes, []).join('\n');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(next);
    expect(renderDiff(changes, [])).toEqual(['~ webhook acme: secret changed']);
  });

  it('from an empty catalogue everything is added (a first seed)', () => {
    const changes = diffCatalogues(EMPTY_CATALOGUE, small());
    // 2 suppliers, 3 SKUs, 1 site, 2 shelves, 3 lanes, 3 policies (defaults changed, SKU, lane), 1 webhook.
    expect(countChanges(changes)).toEqual({ added: 2 + 3 + 1 + 2 + 3 + 2 + 1, changed: 1, removed: 0 });
    expect(changes.find((c) => c.what === 'webhook')).toEqual({ kind: 'added', what: 'webhook', id: 'acme' });
  });
});
