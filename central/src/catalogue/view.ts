/**
 * The catalogue as people read it over HTTP: every object with its revision (the version in which
 * it last changed), each supplier with its webhook — the URL and whether a secret is set, never
 * the secret — and durations in milliseconds.
 */
import type { Catalogue, CatalogueView, PolicyViews, SiteView, SupplierView } from '@shelfsense/protocol';
import type { ChangeWhat } from './diff.js';

/** The revision of an object, from `CatalogueRepository.revision`. */
export type RevisionOf = (what: ChangeWhat, id: string) => number;

/** A revision lookup over a map read once (`revisions()`), for whole-catalogue views. */
export function revisionLookup(revisions: ReadonlyMap<string, number>, version: number): RevisionOf {
  const base = Math.min(1, version);
  return (what, id) => revisions.get(`${what} ${id}`) ?? base;
}

export function supplierView(c: Catalogue, id: string, rev: RevisionOf): SupplierView | null {
  const s = c.suppliers.find((x) => x.id === id);
  if (!s) return null;
  const hook = c.replenishment.webhooks.suppliers.find((w) => w.supplier === id);
  return {
    id: s.id,
    name: s.name ?? null,
    contacts: (s.contacts ?? []).map((k) => ({ ...k })),
    schedule: s.schedule ?? null,
    revision: rev('supplier', id),
    webhook: hook ? { url: hook.url, secretSet: hook.secret.length > 0, revision: rev('webhook', id) } : null,
  };
}

export function siteView(c: Catalogue, id: string, rev: RevisionOf): SiteView | null {
  const site = c.sites.find((x) => x.id === id);
  if (!site) return null;
  return {
    id: site.id,
    name: site.name ?? null,
    openingHours: site.openingHours ?? null,
    revision: rev('site', site.id),
    shelves: site.shelves.map((h) => ({
      id: h.id,
      serial: h.serial,
      agent: h.agent,
      revision: rev('shelf', `${site.id}/${h.id}`),
      lanes: h.lanes.map((l) => ({
        id: l.id,
        channels: [...l.channels],
        sku: l.sku,
        capacity: l.capacity ?? null,
        revision: rev('lane', `${site.id}/${h.id}/${l.id}`),
      })),
    })),
  };
}

export function policyViews(c: Catalogue, rev: RevisionOf): PolicyViews {
  const r = c.replenishment;
  return {
    defaults: { ...r.defaults, revision: rev('policy', 'defaults') },
    skus: r.skus.map((p) => ({ ...p, revision: rev('policy', `sku ${p.sku}`) })),
    sites: r.sites.map((p) => ({ ...p, revision: rev('policy', `site ${p.site}`) })),
    lanes: r.lanes.map((p) => ({ ...p, revision: rev('policy', `lane ${p.site}/${p.shelf}/${p.lane}`) })),
  };
}

/** The whole catalogue as a view; the HTTP route narrows it to what the user may see. */
export function catalogueView(c: Catalogue, version: number, rev: RevisionOf): CatalogueView {
  return {
    version,
    suppliers: c.suppliers.map((s) => supplierView(c, s.id, rev) as SupplierView),
    skus: c.skus.map((s) => ({
      id: s.id,
      name: s.name ?? null,
      unitWeightG: s.unitWeightG,
      supplier: s.supplier,
      revision: rev('sku', s.id),
    })),
    sites: c.sites.map((s) => siteView(c, s.id, rev) as SiteView),
    policies: policyViews(c, rev),
  };
}
