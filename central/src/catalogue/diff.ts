/**
 * What changes between two catalogues, object by object: suppliers, SKUs, sites, shelves (by
 * site and id), lanes (by site, shelf and id), policies and webhooks. Each object is compared
 * field by field, whatever fields its schema has, so a field added to the schema is diffed
 * without touching this file. A site added or removed lists its shelves and lanes too: each lane
 * is what an open order hangs on. Secrets are never copied into a change, only named.
 */
import { isDeepStrictEqual } from 'node:util';
import { Catalogue } from '@shelfsense/protocol';

export type ChangeKind = 'added' | 'changed' | 'removed';
export type ChangeWhat = 'supplier' | 'sku' | 'site' | 'shelf' | 'lane' | 'policy' | 'webhook';

export interface CatalogueChange {
  kind: ChangeKind;
  what: ChangeWhat;
  /** `store-1`, `store-1/shelf-a`, `store-1/shelf-a/L0`; policies `defaults`, `sku cola-330`, `lane …`. */
  id: string;
  /** The fields that differ (changed objects only). */
  fields?: string[];
  /** Their values before and after; a secret field is in `fields` but never here. */
  values?: Record<string, { from: unknown; to: unknown }>;
}

/** Fields whose values stay out of every diff, log and printout. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['secret']);

/** An empty catalogue: what a first seed is compared with. */
export const EMPTY_CATALOGUE: Catalogue = Catalogue.parse({});

type Obj = Readonly<Record<string, unknown>>;

interface Flat {
  what: ChangeWhat;
  /** Fields that are keys or children, not properties of the object itself. */
  skip: readonly string[];
  items: Map<string, Obj>;
}

const byId = <T extends { id: string }>(list: readonly T[], prefix = '') =>
  new Map(list.map((x) => [`${prefix}${x.id}`, x as unknown as Obj]));

/** Every object of a catalogue, keyed as its changes are named, in the order they are listed. */
function flatten(c: Catalogue): Flat[] {
  const shelves = new Map<string, Obj>();
  const lanes = new Map<string, Obj>();
  for (const site of c.sites) {
    for (const shelf of site.shelves) {
      shelves.set(`${site.id}/${shelf.id}`, shelf);
      for (const lane of shelf.lanes) lanes.set(`${site.id}/${shelf.id}/${lane.id}`, lane);
    }
  }
  const r = c.replenishment;
  const policies = new Map<string, Obj>([['defaults', r.defaults]]);
  for (const p of r.skus) policies.set(`sku ${p.sku}`, p);
  for (const p of r.sites) policies.set(`site ${p.site}`, p);
  for (const p of r.lanes) policies.set(`lane ${p.site}/${p.shelf}/${p.lane}`, p);
  return [
    { what: 'supplier', skip: ['id'], items: byId(c.suppliers) },
    { what: 'sku', skip: ['id'], items: byId(c.skus) },
    { what: 'site', skip: ['id', 'shelves'], items: byId(c.sites) },
    { what: 'shelf', skip: ['id', 'lanes'], items: shelves },
    { what: 'lane', skip: ['id'], items: lanes },
    { what: 'policy', skip: ['sku', 'site', 'shelf', 'lane'], items: policies },
    {
      what: 'webhook',
      skip: ['supplier'],
      items: new Map(r.webhooks.suppliers.map((w) => [w.supplier, w as unknown as Obj])),
    },
  ];
}

/** Every object of a catalogue by kind and id, as changes name them (`lane` → `store-1/shelf-a/L0`). */
export function catalogueObjects(c: Catalogue): Map<ChangeWhat, ReadonlyMap<string, Obj>> {
  return new Map(flatten(c).map((f) => [f.what, f.items]));
}

/** An object's own fields, its children left out and secrets named but not copied. */
export function ownFields(what: ChangeWhat, obj: Obj): Record<string, unknown> {
  const skip = CHILDREN[what];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.includes(k)) continue;
    out[k] = SECRET_FIELDS.has(k) ? '(secret)' : v;
  }
  return out;
}

/** Fields that hold children, shown on their own objects. */
const CHILDREN: Readonly<Record<ChangeWhat, readonly string[]>> = {
  supplier: [],
  sku: [],
  site: ['shelves'],
  shelf: ['lanes'],
  lane: [],
  policy: [],
  webhook: [],
};

function compare(a: Obj, b: Obj, skip: readonly string[]): Pick<CatalogueChange, 'fields' | 'values'> {
  const fields: string[] = [];
  const values: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (skip.includes(k) || isDeepStrictEqual(a[k], b[k])) continue;
    fields.push(k);
    if (!SECRET_FIELDS.has(k)) values[k] = { from: a[k], to: b[k] };
  }
  return { fields, values };
}

/** The changes from `before` to `after`: per kind of object, changed and added first, then removed. */
export function diffCatalogues(before: Catalogue, after: Catalogue): CatalogueChange[] {
  const out: CatalogueChange[] = [];
  const old = flatten(before);
  flatten(after).forEach((now, i) => {
    const was = (old[i] as Flat).items;
    for (const [id, obj] of now.items) {
      const prior = was.get(id);
      if (!prior) {
        out.push({ kind: 'added', what: now.what, id });
        continue;
      }
      const d = compare(prior, obj, now.skip);
      if (d.fields?.length) out.push({ kind: 'changed', what: now.what, id, ...d });
    }
    for (const id of was.keys()) {
      if (!now.items.has(id)) out.push({ kind: 'removed', what: now.what, id });
    }
  });
  return out;
}

/** How many objects were added, changed and removed. */
export function countChanges(changes: readonly CatalogueChange[]): Record<ChangeKind, number> {
  const n = { added: 0, changed: 0, removed: 0 };
  for (const c of changes) n[c.kind]++;
  return n;
}
