/**
 * The catalogue over HTTP, on the real API, store and users: scoped reads, one object changed at
 * a time with its revision (409 with the object as it is now when stale), who may change what,
 * errors naming the body's field, an open order cancelled when its lane changes supplier, audit
 * rows, and a webhook's secret rotated and tested against a real HTTP endpoint.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ensureCatalogue } from '@shelfsense/central/catalogue';
import { verifyWebhook } from '@shelfsense/central/webhooks';
import type { CatalogueView } from '@shelfsense/protocol';
import { withCatalogue } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG, type Harness, startHarness } from './harness.js';

let h: Harness;
let reloads = 0;

beforeEach(async () => {
  reloads = 0;
  h = await startHarness({
    catalogue: {
      config: () => {
        const cur = h.store.catalogue.current();
        return cur ? withCatalogue(CONFIG, cur.catalogue) : CONFIG;
      },
      reload: async () => {
        reloads++;
        const cur = h.store.catalogue.current();
        if (cur) h.deps.map.reload(cur.catalogue);
      },
    },
  });
  ensureCatalogue(h.store, CONFIG, undefined, h.now.t);
});
afterEach(async () => {
  await h.close();
});

async function read(user: string): Promise<CatalogueView> {
  const r = await h.call<CatalogueView>('GET', '/api/catalogue', { token: await h.login(user) });
  expect(r.status).toBe(200);
  return r.body;
}

describe('GET /api/catalogue', () => {
  it('[scoped] admin reads all; an operator its sites; a supplier only itself; never a secret', async () => {
    const admin = await read('admin');
    expect(admin.version).toBe(1);
    expect(admin.sites.map((s) => s.id)).toEqual(['A', 'B']);
    expect(admin.sites[0]?.shelves[0]?.lanes[0]).toMatchObject({ id: 'l1', sku: 'x-cola', revision: 1 });

    const op = await read('op-a');
    expect(op.sites.map((s) => s.id)).toEqual(['A']);

    const sup = await read('sup-x');
    expect(sup.sites).toEqual([]);
    expect(sup.suppliers.map((s) => s.id)).toEqual(['X']);
    expect(sup.skus.map((s) => s.id)).toEqual(['x-cola']);

    const agent = await h.call('GET', '/api/catalogue', { token: await h.login('agent-a') });
    expect(agent.status).toBe(403);
  });
});

describe('changing one object', () => {
  it('[revision] an update names the revision it read; a stale one answers 409 with the object now', async () => {
    const op = await h.login('op-a');
    const path = '/api/catalogue/sites/A/shelves/a1/lanes/l1';
    const first = await h.call<{ version: number; object: { capacity: number; revision: number } }>(
      'PUT',
      path,
      {
        token: op,
        body: { channels: [0], sku: 'x-cola', capacity: 30, revision: 1 },
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.version).toBe(2);
    expect(first.body.object).toMatchObject({ capacity: 30, revision: 2 });
    expect(reloads).toBe(1);
    expect(h.deps.map.lane('A', 'a1', 'l1')?.capacity).toBe(30);

    // A second person who read revision 1 saves: refused, and told what it is now.
    const stale = await h.call<{ error: { code: string }; current: { capacity: number; revision: number } }>(
      'PUT',
      path,
      { token: op, body: { channels: [0], sku: 'x-cola', capacity: 12, revision: 1 } },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('SHELF_ERR_CONFLICT');
    expect(stale.body.current).toMatchObject({ capacity: 30, revision: 2 });
    expect(h.store.catalogue.version()).toBe(2);

    // Creating what exists is a conflict too; so is deleting with a stale revision.
    const exists = await h.call('PUT', path, { token: op, body: { channels: [0], sku: 'x-cola' } });
    expect(exists.status).toBe(409);
    const del = await h.call('DELETE', `${path}?revision=1`, { token: op });
    expect(del.status).toBe(409);
    const gone = await h.call('DELETE', `${path}?revision=2`, { token: op });
    expect(gone.status).toBe(200);
    expect(h.deps.map.lane('A', 'a1', 'l1')).toBeUndefined();
  });

  it('[who may] operator lanes of its sites, technician shelves, supplier its own webhook; else 403 or 404', async () => {
    const lane = { channels: [2], sku: 'x-cola', capacity: 10 };
    const add = (user: string, site: string) =>
      h.login(user).then((token) =>
        h.call('PUT', `/api/catalogue/sites/${site}/shelves/${site.toLowerCase()}1/lanes/l3`, {
          token,
          body: lane,
        }),
      );
    expect((await add('op-a', 'A')).status).toBe(200);
    expect((await add('op-a', 'B')).status).toBe(404); // another site: as if absent
    expect((await add('tech-a', 'A')).status).toBe(403); // sees it, may not change lanes
    expect((await add('sup-x', 'A')).status).toBe(404);

    const shelf = { serial: 'SA9', agent: 'agent-a', lanes: [{ id: 'l1', channels: [0], sku: 'y-chips' }] };
    const tech = await h.login('tech-a');
    expect(
      (await h.call('PUT', '/api/catalogue/sites/A/shelves/a9', { token: tech, body: shelf })).status,
    ).toBe(200);
    expect(
      (await h.call('PUT', '/api/catalogue/sites/B/shelves/b9', { token: tech, body: shelf })).status,
    ).toBe(404);
    const opA = await h.login('op-a');
    expect(
      (await h.call('PUT', '/api/catalogue/sites/A/shelves/a8', { token: opA, body: shelf })).status,
    ).toBe(403);

    const supX = await h.login('sup-x');
    const hook = { url: 'https://erp.x.example/hook' };
    expect(
      (await h.call('PUT', '/api/catalogue/suppliers/X/webhook', { token: supX, body: hook })).status,
    ).toBe(200);
    expect(
      (await h.call('PUT', '/api/catalogue/suppliers/Y/webhook', { token: supX, body: hook })).status,
    ).toBe(404);
    expect(
      (
        await h.call('PUT', '/api/catalogue/skus/x-new', {
          token: supX,
          body: { unitWeightG: 5, supplier: 'X' },
        })
      ).status,
    ).toBe(403);
    expect(h.store.catalogue.version()).toBe(4);
  });

  it('[bad input] a bad body or a broken reference is 400 naming the field, and nothing is written', async () => {
    const admin = await h.login('admin');
    const shape = await h.call<{ error: { issues: { path: string }[] } }>('PUT', '/api/catalogue/skus/s1', {
      token: admin,
      body: { unitWeightG: -1, supplier: 'X', colour: 'red' },
    });
    expect(shape.status).toBe(400);
    expect(shape.body.error.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['unitWeightG']));

    const ref = await h.call<{ error: { issues: { path: string; message: string }[] } }>(
      'PUT',
      '/api/catalogue/sites/A/shelves/a1/lanes/l1',
      { token: admin, body: { channels: [1], sku: 'x-cola', revision: 1 } },
    );
    expect(ref.status).toBe(400);
    // The clash is named where the checker finds it: the other lane's channels, by its full path.
    expect(ref.body.error.issues[0]).toMatchObject({
      path: 'sites.0.shelves.0.lanes.1.channels',
      message: 'channel 1 is already used on shelf A/a1',
    });

    const unknownSku = await h.call<{ error: { issues: { path: string }[] } }>(
      'PUT',
      '/api/catalogue/sites/A/shelves/a1/lanes/l9',
      {
        token: admin,
        body: { channels: [5], sku: 'nope' },
      },
    );
    expect(unknownSku.status).toBe(400);
    expect(unknownSku.body.error.issues[0]?.path).toBe('sku');
    const noRevision = await h.call('DELETE', '/api/catalogue/skus/x-cola', { token: admin });
    expect(noRevision.status).toBe(400);
    expect(h.store.catalogue.version()).toBe(1);
  });

  it('[delivery schedule] a supplier sets its schedule; a contact edit keeps it; null removes it; a bad one is 400', async () => {
    const sup = await h.login('sup-x');
    const path = '/api/catalogue/suppliers/X';
    const schedule = {
      timezone: 'Europe/Berlin',
      cycles: [{ cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'wed', at: '07:00' } }],
    };
    let rev = (await read('sup-x')).suppliers[0]!.revision;
    const set = await h.call<{ object: { schedule: unknown; revision: number } }>('PUT', path, {
      token: sup,
      body: { name: 'X Drinks', schedule, revision: rev },
    });
    expect(set.status).toBe(200);
    expect(set.body.object.schedule).toEqual(schedule);
    expect(h.store.catalogue.current()?.catalogue.suppliers.find((s) => s.id === 'X')?.schedule).toEqual(
      schedule,
    );
    // The store operator sees when deliveries come (but not the supplier's contacts).
    expect((await read('op-a')).suppliers.find((s) => s.id === 'X')?.schedule).toEqual(schedule);

    // An edit that does not mention the schedule (the contact form) leaves it as it is.
    rev = set.body.object.revision;
    const contact = await h.call<{ object: { schedule: unknown; revision: number } }>('PUT', path, {
      token: sup,
      body: {
        name: 'X Drinks',
        contacts: [{ name: 'Dispatch', email: 'dispatch@x.example' }],
        revision: rev,
      },
    });
    expect(contact.status).toBe(200);
    expect(contact.body.object.schedule).toEqual(schedule);

    const bad = await h.call<{ error: { issues: { path: string; message: string }[] } }>('PUT', path, {
      token: sup,
      body: {
        schedule: {
          timezone: 'Mars/Olympus',
          cycles: [{ cutoff: { day: 'mon', at: '25:00' }, delivery: { day: 'wed' } }],
        },
        revision: contact.body.object.revision,
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path).sort()).toEqual([
      'schedule.cycles.0.cutoff.at',
      'schedule.timezone',
    ]);
    const version = h.store.catalogue.version();

    const removed = await h.call<{ object: { schedule: unknown } }>('PUT', path, {
      token: sup,
      body: { schedule: null, revision: contact.body.object.revision },
    });
    expect(removed.status).toBe(200);
    expect(removed.body.object.schedule).toBeNull();
    expect(h.store.catalogue.version()).toBe(version + 1);
  });

  it('[lane to another supplier] cancels its open order with a reason; audit rows name who and what', async () => {
    const id = h.openOrder('AX');
    const op = await h.login('op-a');
    const r = await h.call<{ effects: { orderId: string; action: string; reason: string }[] }>(
      'PUT',
      '/api/catalogue/sites/A/shelves/a1/lanes/l1',
      { token: op, body: { channels: [0], sku: 'y-chips', capacity: 24, revision: 1 } },
    );
    expect(r.status).toBe(200);
    expect(r.body.effects).toEqual([expect.objectContaining({ orderId: id, action: 'cancel' })]);
    expect(h.orders.get(id)?.state).toBe('cancelled');
    const rows = h.store.audit.list({ action: 'catalogue' });
    expect(rows[0]).toMatchObject({
      actor: 'op-a',
      role: 'operator',
      action: 'catalogue.changed',
      target: 'lane',
      targetId: 'A/a1/l1',
      site: 'A',
      before: expect.objectContaining({ sku: 'x-cola' }),
      after: expect.objectContaining({ sku: 'y-chips' }),
    });
  });

  it('[policies] a site policy raises the reorder point of every lane there; defaults need no revision', async () => {
    const op = await h.login('op-a');
    const put = await h.call('PUT', '/api/catalogue/policies/sites/A', {
      token: op,
      body: { reorderPoint: 10 },
    });
    expect(put.status).toBe(200);
    const view = await read('admin');
    expect(view.policies.sites).toEqual([
      expect.objectContaining({ site: 'A', reorderPoint: 10, revision: 2 }),
    ]);
    expect(
      (await h.call('PUT', '/api/catalogue/policies/sites/B', { token: op, body: { reorderPoint: 10 } }))
        .status,
    ).toBe(404);
    expect(
      (await h.call('PUT', '/api/catalogue/policies/defaults', { token: op, body: { reorderPoint: 3 } }))
        .status,
    ).toBe(403);
    const admin = await h.login('admin');
    const defaults = await h.call('PUT', '/api/catalogue/policies/defaults', {
      token: admin,
      body: { reorderPoint: 3, orderUpTo: 20 },
    });
    expect(defaults.status).toBe(200);
    expect(h.store.catalogue.current()?.catalogue.replenishment.defaults.reorderPoint).toBe(3);
  });
});

describe('webhooks', () => {
  let server: Server;
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  beforeEach(async () => {
    seen.length = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(202, { 'Content-Type': 'text/plain' });
        res.end('accepted by X');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('[secret] creation and rotation show the secret once; a test event is signed with it', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const sup = await h.login('sup-x');
    const created = await h.call<{ secret: string; webhook: { secretSet: boolean; revision: number } }>(
      'PUT',
      '/api/catalogue/suppliers/X/webhook',
      { token: sup, body: { url } },
    );
    expect(created.status).toBe(200);
    expect(created.body.secret.length).toBeGreaterThanOrEqual(32);
    const view = await read('sup-x');
    expect(JSON.stringify(view)).not.toContain(created.body.secret);
    expect(view.suppliers[0]?.webhook).toMatchObject({ url, secretSet: true });

    const rotated = await h.call<{ secret: string }>('POST', '/api/catalogue/suppliers/X/webhook/rotate', {
      token: sup,
      body: {},
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(h.store.catalogue.current()?.catalogue.replenishment.webhooks.suppliers[0]?.secret).toBe(
      rotated.body.secret,
    );

    const test = await h.call<{ ok: boolean; status: number; body: string }>(
      'POST',
      '/api/catalogue/suppliers/X/webhook/test',
      { token: sup, body: {} },
    );
    expect(test.body).toMatchObject({ ok: true, status: 202, body: 'accepted by X' });
    expect(seen).toHaveLength(1);
    const check = verifyWebhook(
      rotated.body.secret,
      seen[0]?.headers ?? {},
      seen[0]?.body ?? '',
      60_000,
      h.now.t,
    );
    expect(check.ok).toBe(true);
    const audit = h.store.audit.list({ target: 'webhook' });
    expect(JSON.stringify(audit)).not.toContain(rotated.body.secret);
    expect(audit[0]?.detail).toMatchObject({ fields: ['secret'] });
  });
});
