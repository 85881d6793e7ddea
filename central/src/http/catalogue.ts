/**
 * The catalogue over HTTP (docs/catalogue.md): read what the user may see, and change one object
 * at a time with the revision it read (409 with the object as it is now when it is stale).
 *
 * Who may change what: an admin everything; an operator the lanes and the site and lane policies
 * of its sites; a technician the shelves of its sites (assign, change, decommission); a supplier
 * its own contacts and webhook. What a user may not see answers 404, as if absent; what it sees
 * but may not change answers 403. Each change is live within a second: central reloads the
 * catalogue as soon as the version is written.
 */
import {
  type Catalogue,
  type CatalogueChangeResponse,
  type CatalogueView,
  DeleteQuery,
  EmptyBody,
  LaneBody,
  PolicyBody,
  ShelfBody,
  SiteBody,
  SkuBody,
  SupplierBody,
  WebhookBody,
  type WebhookSecretResponse,
} from '@shelfsense/protocol';
import { editCatalogue, type ObjectEdit } from '../catalogue/edit.js';
import { catalogueView, revisionLookup } from '../catalogue/view.js';
import { newSecret, testWebhook } from '../webhooks/test-event.js';
import { type Draft, defined, dropPolicies, remove, shelfAt, siteIndex, upsert } from './catalogue-draft.js';
import {
  admin,
  atSite,
  ownSupplier,
  policyTarget,
  type Rule,
  revOf,
  scopedView,
  siteTarget,
  supplierTarget,
  type Target,
} from './catalogue-scope.js';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import type { CatalogueAccess } from './deps.js';
import { forbidden, HttpError, HttpErrorCodes, notFound } from './errors.js';
import { parseQuery, readJson } from './io.js';
import type { Principal } from './scope.js';

type Path = (string | number)[];

function access(ctx: RequestContext): CatalogueAccess {
  const a = ctx.deps.catalogue;
  if (!a) throw new HttpError(503, HttpErrorCodes.UNAVAILABLE, 'the catalogue is not served by this process');
  return a;
}

function current(ctx: RequestContext): { catalogue: Catalogue; version: number } {
  const v = ctx.deps.store.catalogue.current();
  if (!v) throw new HttpError(503, HttpErrorCodes.UNAVAILABLE, 'the catalogue is not loaded yet');
  return v;
}

async function change(
  ctx: RequestContext,
  p: Principal,
  target: Target,
  op: 'put' | 'delete',
  revision: number | undefined,
  mutate: (draft: Draft) => Path,
): Promise<CatalogueChangeResponse & { catalogue: Catalogue }> {
  const cat = access(ctx);
  if (!target.visible(p.grant)) throw notFound(`no ${target.what} ${target.id}`);
  if (!target.rule(p.grant, target.site, target.supplier)) {
    throw forbidden(`the ${p.grant.role} role may not change this ${target.what}`);
  }
  const edit: ObjectEdit = {
    what: target.what,
    id: target.id,
    op,
    revision,
    change: (d) => mutate(d as Draft),
  };
  const done = editCatalogue(ctx.deps.store, cat.config(), edit, {
    actor: p.user,
    role: p.grant.role,
    now: ctx.now(),
    view: (c, v) => target.view(c, v, ctx),
  });
  if (done.version !== null) await cat.reload();
  const version = done.version ?? done.base;
  return {
    version: done.version,
    object: op === 'delete' ? null : target.view(done.catalogue, version, ctx),
    effects: done.changes.length > 0 ? done.effects : [],
    catalogue: done.catalogue,
  };
}

const strip = <T extends { catalogue: unknown }>(r: T): Omit<T, 'catalogue'> => {
  const { catalogue: _c, ...rest } = r;
  return rest;
};

const param = (ctx: RequestContext, name: string) => ctx.params[name] ?? '';

function bodyFields<T extends { revision?: number | undefined }>(b: T): Omit<T, 'revision'> {
  const { revision: _r, ...rest } = b;
  return defined(rest) as Omit<T, 'revision'>;
}

export function catalogueRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/catalogue', async (ctx, p): Promise<CatalogueView> => {
    if (p.grant.role === 'agent' || p.grant.role === 'homeassistant') {
      throw forbidden(`the ${p.grant.role} role has no catalogue to read`);
    }
    const { catalogue, version } = current(ctx);
    const rev = revisionLookup(ctx.deps.store.catalogue.revisions(), version);
    return scopedView(catalogueView(catalogue, version, rev), p.grant);
  });

  // --- suppliers and their webhooks ---------------------------------------------------------
  authed(router, 'PUT', '/api/catalogue/suppliers/:supplier', async (ctx, p) => {
    const body = await readJson(ctx.req, SupplierBody);
    const id = param(ctx, 'supplier');
    const t = supplierTarget(ctx, id, 'supplier', body.revision === undefined ? admin : ownSupplier);
    const { schedule, ...fields } = bodyFields(body);
    return strip(
      await change(ctx, p, t, 'put', body.revision, (d) => {
        // A body without `schedule` (the dashboard's contact form) keeps the one set.
        const kept = schedule === undefined ? d.suppliers.find((s) => s.id === id)?.schedule : schedule;
        return [
          'suppliers',
          upsert(d.suppliers, (s) => s.id === id, { id, ...fields, ...(kept ? { schedule: kept } : {}) }),
        ];
      }),
    );
  });

  authed(router, 'DELETE', '/api/catalogue/suppliers/:supplier', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const id = param(ctx, 'supplier');
    return strip(
      await change(ctx, p, supplierTarget(ctx, id, 'supplier', admin), 'delete', q.revision, (d) => {
        remove(d.suppliers, (s) => s.id === id);
        remove(d.replenishment.webhooks.suppliers, (w) => w.supplier === id);
        return ['suppliers'];
      }),
    );
  });

  authed(router, 'PUT', '/api/catalogue/suppliers/:supplier/webhook', async (ctx, p) => {
    const body = await readJson(ctx.req, WebhookBody);
    const id = param(ctx, 'supplier');
    const creating = body.revision === undefined;
    const secret = creating ? newSecret() : null;
    const hooks = (d: Draft) => d.replenishment.webhooks.suppliers;
    const r = await change(
      ctx,
      p,
      supplierTarget(ctx, id, 'webhook', ownSupplier),
      'put',
      body.revision,
      (d) => {
        const old = hooks(d).find((w) => w.supplier === id);
        const i = upsert(hooks(d), (w) => w.supplier === id, {
          supplier: id,
          url: body.url,
          secret: secret ?? old?.secret ?? newSecret(),
        });
        return ['replenishment', 'webhooks', 'suppliers', i];
      },
    );
    if (!secret) return strip(r);
    const answer: WebhookSecretResponse = {
      version: r.version,
      webhook: r.object as WebhookSecretResponse['webhook'],
      secret,
    };
    return answer;
  });

  authed(router, 'DELETE', '/api/catalogue/suppliers/:supplier/webhook', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const id = param(ctx, 'supplier');
    return strip(
      await change(ctx, p, supplierTarget(ctx, id, 'webhook', admin), 'delete', q.revision, (d) => {
        remove(d.replenishment.webhooks.suppliers, (w) => w.supplier === id);
        return ['replenishment', 'webhooks'];
      }),
    );
  });

  authed(router, 'POST', '/api/catalogue/suppliers/:supplier/webhook/rotate', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const id = param(ctx, 'supplier');
    const secret = newSecret();
    const revision = ctx.deps.store.catalogue.revision('webhook', id);
    const r = await change(ctx, p, supplierTarget(ctx, id, 'webhook', ownSupplier), 'put', revision, (d) => {
      const hooks = d.replenishment.webhooks.suppliers;
      const i = hooks.findIndex((w) => w.supplier === id);
      if (i < 0) throw notFound(`supplier ${id} has no webhook`);
      hooks[i] = { ...(hooks[i] as (typeof hooks)[number]), secret };
      return ['replenishment', 'webhooks', 'suppliers', i];
    });
    const answer: WebhookSecretResponse = {
      version: r.version,
      webhook: r.object as WebhookSecretResponse['webhook'],
      secret,
    };
    return answer;
  });

  authed(router, 'POST', '/api/catalogue/suppliers/:supplier/webhook/test', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    const id = param(ctx, 'supplier');
    const t = supplierTarget(ctx, id, 'webhook', ownSupplier);
    if (!t.visible(p.grant)) throw notFound(`no webhook for supplier ${id}`);
    if (!t.rule(p.grant, null, id)) throw forbidden(`the ${p.grant.role} role may not test this webhook`);
    const hook = current(ctx).catalogue.replenishment.webhooks.suppliers.find((w) => w.supplier === id);
    if (!hook) throw notFound(`supplier ${id} has no webhook`);
    return testWebhook(hook, id, ctx.now(), access(ctx).config().replenishment.webhooks.timeoutMs);
  });

  // --- SKUs ---------------------------------------------------------------------------------
  authed(router, 'PUT', '/api/catalogue/skus/:sku', async (ctx, p) => {
    const body = await readJson(ctx.req, SkuBody);
    const id = param(ctx, 'sku');
    const t: Target = {
      what: 'sku',
      id,
      site: null,
      supplier: body.supplier,
      rule: admin,
      visible: (g) => g.role !== 'supplier' || g.supplier === body.supplier,
      view: (c, v) => catalogueView(c, v, revOf(ctx)).skus.find((s) => s.id === id) ?? null,
    };
    const fields = bodyFields(body);
    return strip(
      await change(ctx, p, t, 'put', body.revision, (d) => [
        'skus',
        upsert(d.skus, (s) => s.id === id, { id, ...fields }),
      ]),
    );
  });

  authed(router, 'DELETE', '/api/catalogue/skus/:sku', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const id = param(ctx, 'sku');
    const t: Target = {
      what: 'sku',
      id,
      site: null,
      supplier: null,
      rule: admin,
      visible: (g) => g.role !== 'supplier',
      view: (c, v) => catalogueView(c, v, revOf(ctx)).skus.find((s) => s.id === id) ?? null,
    };
    return strip(
      await change(ctx, p, t, 'delete', q.revision, (d) => {
        remove(d.skus, (s) => s.id === id);
        remove(d.replenishment.skus, (s) => s.sku === id);
        return ['skus'];
      }),
    );
  });

  // --- sites, shelves, lanes ------------------------------------------------------------------
  authed(router, 'PUT', '/api/catalogue/sites/:site', async (ctx, p) => {
    const body = await readJson(ctx.req, SiteBody);
    const site = param(ctx, 'site');
    const t = siteTarget(ctx, site, 'site', site, admin);
    // An admin creating a site sees it; a scoped user cannot create one it does not see.
    return strip(
      await change(ctx, p, t, 'put', body.revision, (d) => {
        const old = d.sites.find((s) => s.id === site);
        const { name, openingHours } = bodyFields(body);
        // Left out, the hours stay; null drops them (always open).
        const hours = openingHours === undefined ? old?.openingHours : (openingHours ?? undefined);
        return [
          'sites',
          upsert(
            d.sites,
            (s) => s.id === site,
            defined({ id: site, name, shelves: old?.shelves ?? [], openingHours: hours }),
          ),
        ];
      }),
    );
  });

  authed(router, 'DELETE', '/api/catalogue/sites/:site', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const site = param(ctx, 'site');
    return strip(
      await change(ctx, p, siteTarget(ctx, site, 'site', site, admin), 'delete', q.revision, (d) => {
        remove(d.sites, (s) => s.id === site);
        dropPolicies(d, (s) => s === site);
        return ['sites'];
      }),
    );
  });

  authed(router, 'PUT', '/api/catalogue/sites/:site/shelves/:shelf', async (ctx, p) => {
    const body = await readJson(ctx.req, ShelfBody);
    const [site, shelf] = [param(ctx, 'site'), param(ctx, 'shelf')];
    const t = siteTarget(ctx, site, 'shelf', `${site}/${shelf}`, atSite('technician'));
    return strip(
      await change(ctx, p, t, 'put', body.revision, (d) => {
        const si = siteIndex(d, site);
        const shelves = (d.sites[si] as Draft['sites'][number]).shelves;
        const old = shelves.find((h) => h.id === shelf);
        const lanes = body.lanes ?? old?.lanes;
        if (!lanes) {
          throw new HttpError(
            400,
            HttpErrorCodes.INVALID,
            'invalid request: lanes: a new shelf needs its lanes',
            [{ path: 'lanes', message: 'a new shelf needs its lanes' }],
          );
        }
        const value = {
          id: shelf,
          serial: body.serial,
          agent: body.agent,
          lanes: lanes.map((l) => defined({ ...l })),
        };
        // Lanes a shelf no longer has take their policies with them.
        const kept = new Set(value.lanes.map((l) => l.id));
        remove(d.replenishment.lanes, (l) => l.site === site && l.shelf === shelf && !kept.has(l.lane));
        return ['sites', si, 'shelves', upsert(shelves, (h) => h.id === shelf, value)];
      }),
    );
  });

  authed(router, 'DELETE', '/api/catalogue/sites/:site/shelves/:shelf', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const [site, shelf] = [param(ctx, 'site'), param(ctx, 'shelf')];
    const t = siteTarget(ctx, site, 'shelf', `${site}/${shelf}`, atSite('technician'));
    return strip(
      await change(ctx, p, t, 'delete', q.revision, (d) => {
        const si = siteIndex(d, site);
        remove((d.sites[si] as Draft['sites'][number]).shelves, (h) => h.id === shelf);
        remove(d.replenishment.lanes, (l) => l.site === site && l.shelf === shelf);
        return ['sites', si, 'shelves'];
      }),
    );
  });

  authed(router, 'PUT', '/api/catalogue/sites/:site/shelves/:shelf/lanes/:lane', async (ctx, p) => {
    const body = await readJson(ctx.req, LaneBody);
    const [site, shelf, lane] = [param(ctx, 'site'), param(ctx, 'shelf'), param(ctx, 'lane')];
    const t = siteTarget(ctx, site, 'lane', `${site}/${shelf}/${lane}`, atSite('operator'));
    return strip(
      await change(ctx, p, t, 'put', body.revision, (d) => {
        const { si, hi, lanes } = shelfAt(d, site, shelf);
        const value = defined({ id: lane, ...bodyFields(body) });
        return ['sites', si, 'shelves', hi, 'lanes', upsert(lanes, (l) => l.id === lane, value)];
      }),
    );
  });

  authed(router, 'DELETE', '/api/catalogue/sites/:site/shelves/:shelf/lanes/:lane', async (ctx, p) => {
    const q = parseQuery(ctx.url, DeleteQuery);
    const [site, shelf, lane] = [param(ctx, 'site'), param(ctx, 'shelf'), param(ctx, 'lane')];
    const t = siteTarget(ctx, site, 'lane', `${site}/${shelf}/${lane}`, atSite('operator'));
    return strip(
      await change(ctx, p, t, 'delete', q.revision, (d) => {
        const { si, hi, lanes } = shelfAt(d, site, shelf);
        remove(lanes, (l) => l.id === lane);
        remove(d.replenishment.lanes, (l) => l.site === site && l.shelf === shelf && l.lane === lane);
        return ['sites', si, 'shelves', hi, 'lanes'];
      }),
    );
  });

  // --- policies -----------------------------------------------------------------------------
  authed(router, 'PUT', '/api/catalogue/policies/defaults', async (ctx, p) => {
    const body = await readJson(ctx.req, PolicyBody);
    const revision = body.revision ?? ctx.deps.store.catalogue.revision('policy', 'defaults');
    const t = policyTarget(ctx, 'defaults', null, admin);
    return strip(
      await change(ctx, p, t, 'put', revision, (d) => {
        d.replenishment.defaults = bodyFields(body) as Draft['replenishment']['defaults'];
        return ['replenishment', 'defaults'];
      }),
    );
  });

  const policyRoutes = <K extends 'skus' | 'sites' | 'lanes'>(
    kind: K,
    pattern: string,
    key: (ctx: RequestContext) => { id: string; site: string | null; fields: Record<string, string> },
    rule: Rule,
  ) => {
    const matches = (fields: Record<string, string>) => (x: Record<string, unknown>) =>
      Object.entries(fields).every(([k, v]) => x[k] === v);
    authed(router, 'PUT', pattern, async (ctx, p) => {
      const body = await readJson(ctx.req, PolicyBody);
      const k = key(ctx);
      const t = policyTarget(ctx, k.id, k.site, rule);
      return strip(
        await change(ctx, p, t, 'put', body.revision, (d) => {
          const list = d.replenishment[kind] as unknown as Record<string, unknown>[];
          return [
            'replenishment',
            kind,
            upsert(list, matches(k.fields), { ...k.fields, ...bodyFields(body) }),
          ];
        }),
      );
    });
    authed(router, 'DELETE', pattern, async (ctx, p) => {
      const q = parseQuery(ctx.url, DeleteQuery);
      const k = key(ctx);
      return strip(
        await change(ctx, p, policyTarget(ctx, k.id, k.site, rule), 'delete', q.revision, (d) => {
          remove(d.replenishment[kind] as unknown as Record<string, unknown>[], matches(k.fields));
          return ['replenishment', kind];
        }),
      );
    });
  };
  policyRoutes(
    'skus',
    '/api/catalogue/policies/skus/:sku',
    (ctx) => ({ id: `sku ${param(ctx, 'sku')}`, site: null, fields: { sku: param(ctx, 'sku') } }),
    admin,
  );
  policyRoutes(
    'sites',
    '/api/catalogue/policies/sites/:site',
    (ctx) => ({
      id: `site ${param(ctx, 'site')}`,
      site: param(ctx, 'site'),
      fields: { site: param(ctx, 'site') },
    }),
    atSite('operator'),
  );
  policyRoutes(
    'lanes',
    '/api/catalogue/policies/lanes/:site/:shelf/:lane',
    (ctx) => {
      const [site, shelf, lane] = [param(ctx, 'site'), param(ctx, 'shelf'), param(ctx, 'lane')];
      return { id: `lane ${site}/${shelf}/${lane}`, site, fields: { site, shelf, lane } };
    },
    atSite('operator'),
  );
}
