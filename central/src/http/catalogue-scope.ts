/**
 * Who may see and change what in the catalogue over HTTP, and each kind of object as a target of
 * a change: its site or supplier, the rule for changing it, and its view (for answers and 409s).
 */
import type { Catalogue, CatalogueView, Grant } from '@shelfsense/protocol';
import type { ChangeWhat } from '../catalogue/diff.js';
import { policyViews, siteView, supplierView } from '../catalogue/view.js';
import type { RequestContext } from './context.js';

/** Who may change an object: by role, and for scoped roles by site or supplier. */
export type Rule = (g: Grant, site: string | null, supplier: string | null) => boolean;

export const admin: Rule = (g) => g.role === 'admin';
const sitesOf = (g: Grant): readonly string[] | null => ('sites' in g ? g.sites : null);
export const atSite =
  (...roles: string[]): Rule =>
  (g, site) =>
    g.role === 'admin' || (roles.includes(g.role) && site !== null && (sitesOf(g)?.includes(site) ?? false));
export const ownSupplier: Rule = (g, _site, supplier) =>
  g.role === 'admin' || (g.role === 'supplier' && supplier !== null && g.supplier === supplier);

/** May the user see anything of this site / supplier (404 otherwise). */
export function seesSite(g: Grant, site: string): boolean {
  if (g.role === 'admin' || g.role === 'service') return true;
  return sitesOf(g)?.includes(site) ?? false;
}

/** The catalogue narrowed to what the user may see. */
export function scopedView(view: CatalogueView, g: Grant): CatalogueView {
  if (g.role === 'admin' || g.role === 'service') return view;
  if (g.role === 'supplier') {
    const skus = view.skus.filter((s) => s.supplier === g.supplier);
    return {
      version: view.version,
      suppliers: view.suppliers.filter((s) => s.id === g.supplier),
      skus,
      sites: [],
      policies: {
        ...view.policies,
        skus: view.policies.skus.filter((p) => skus.some((s) => s.id === p.sku)),
        sites: [],
        lanes: [],
      },
    };
  }
  const sites = new Set(sitesOf(g) ?? []);
  return {
    version: view.version,
    // Names only: an operator picks a SKU for a lane; contacts and webhooks stay the supplier's.
    suppliers: view.suppliers.map((s) => ({
      id: s.id,
      name: s.name,
      contacts: [],
      // When deliveries come is the store's business too.
      schedule: s.schedule,
      revision: s.revision,
      webhook: null,
    })),
    skus: view.skus,
    sites: view.sites.filter((s) => sites.has(s.id)),
    policies: {
      defaults: view.policies.defaults,
      skus: view.policies.skus,
      sites: view.policies.sites.filter((p) => sites.has(p.site)),
      lanes: view.policies.lanes.filter((p) => sites.has(p.site)),
    },
  };
}

export interface Target {
  what: ChangeWhat;
  id: string;
  site: string | null;
  supplier: string | null;
  /** Who may change it. */
  rule: Rule;
  /** Whether the user may see it at all (404 when not). */
  visible(g: Grant): boolean;
  /** The object as the API shows it, for answers and conflicts. */
  view(c: Catalogue, version: number, ctx: RequestContext): unknown;
}

export function revOf(ctx: RequestContext) {
  return (what: ChangeWhat, id: string) => ctx.deps.store.catalogue.revision(what, id);
}

/** Runs one edit with the checks every route shares, then takes the new catalogue up at once. */
export function siteTarget(
  ctx: RequestContext,
  site: string,
  what: ChangeWhat,
  id: string,
  rule: Rule,
): Target {
  return {
    what,
    id,
    site,
    supplier: null,
    rule,
    visible: (g) => seesSite(g, site),
    view: (c) => {
      const rev = revOf(ctx);
      const s = siteView(c, site, rev);
      if (what === 'site') return s;
      const [, shelf, lane] = id.split('/');
      const h = s?.shelves.find((x) => x.id === shelf) ?? null;
      if (what === 'shelf') return h;
      return h?.lanes.find((l) => l.id === lane) ?? null;
    },
  };
}

export function policyTarget(ctx: RequestContext, id: string, site: string | null, rule: Rule): Target {
  return {
    what: 'policy',
    id,
    site,
    supplier: null,
    rule,
    visible: (g) => (site === null ? g.role !== 'supplier' || id.startsWith('sku ') : seesSite(g, site)),
    view: (c) => {
      const v = policyViews(c, revOf(ctx));
      if (id === 'defaults') return v.defaults;
      const [kind, key] = id.split(' ') as [string, string];
      if (kind === 'sku') return v.skus.find((p) => p.sku === key) ?? null;
      if (kind === 'site') return v.sites.find((p) => p.site === key) ?? null;
      return v.lanes.find((p) => `${p.site}/${p.shelf}/${p.lane}` === key) ?? null;
    },
  };
}

export function supplierTarget(
  ctx: RequestContext,
  supplier: string,
  what: 'supplier' | 'webhook',
  rule: Rule,
): Target {
  return {
    what,
    id: supplier,
    site: null,
    supplier,
    rule,
    visible: (g) => g.role !== 'supplier' || g.supplier === supplier,
    view: (c) => {
      const s = supplierView(c, supplier, revOf(ctx));
      return what === 'supplier' ? s : (s?.webhook ?? null);
    },
  };
}
