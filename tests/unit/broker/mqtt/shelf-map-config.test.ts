/**
 * The central config (the shelf map's source) and the shelf map built from it.
 */
import { CentralConfig, isShelfError, parseConfigText, ShelfMap } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mapConfig } from '../../../integration/broker/helpers.js';

const issuesOf = (input: unknown): string[] => {
  const r = CentralConfig.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('central config', () => {
  it('parses the YAML shelf map with defaults for the broker and auth', () => {
    const cfg = parseConfigText(CentralConfig, stringify(mapConfig()), 'central config');
    expect(cfg.mqtt).toMatchObject({ port: 1883, websocket: { enabled: true, path: '/mqtt' } });
    expect(cfg.mqtt.anonymous).toBeUndefined();
    expect(cfg.mqtt.limits.maxPacketBytes).toBe(256 * 1024);
    expect(cfg.auth.tokenTtlMs).toBe(15 * 60_000);
    expect(Object.isFrozen(cfg.mqtt)).toBe(true);
  });

  it('names the field at fault: unknown supplier, unknown SKU, duplicates, shared channel, reused serial', () => {
    const bad = mapConfig();
    bad.skus!.push({ id: 'z', unitWeightG: 1, supplier: 'nobody' });
    bad.sites![0]!.shelves![0]!.lanes.push({ id: 'l1', channels: [1], sku: 'nope' });
    bad.sites![1]!.shelves![0]!.serial = 'SA1';
    expect(issuesOf(bad)).toEqual(
      expect.arrayContaining([
        'skus.2.supplier: unknown supplier "nobody"',
        'sites.0.shelves.0.lanes.2.id: duplicate lane "l1"',
        'sites.0.shelves.0.lanes.2.sku: unknown SKU "nope"',
        'sites.0.shelves.0.lanes.2.channels: channel 1 is already used on shelf A/a1',
        'sites.1.shelves.0.serial: serial "SA1" is also A/a1',
      ]),
    );
  });

  it('checks the anonymous grant and that there is a way in', () => {
    expect(issuesOf({ ...mapConfig(), mqtt: { anonymous: { role: 'operator', sites: ['Q'] } } })).toEqual([
      'mqtt.anonymous.sites.0: unknown site "Q"',
    ]);
    expect(issuesOf({ ...mapConfig(), mqtt: { anonymous: { role: 'wizard' } } })[0]).toMatch(
      /^mqtt\.anonymous\.role/,
    );
    expect(issuesOf({ ...mapConfig(), mqtt: { port: false, websocket: { enabled: false } } })).toEqual([
      'mqtt.port: plain TCP is off and neither TLS nor WebSocket is on: no way in',
    ]);
    expect(issuesOf({ ...mapConfig(), auth: { scrypt: { cost: 3000 } } })).toEqual([
      'auth.scrypt.cost: a power of two',
    ]);
  });

  it('checks that session budgets can hold what a client may send', () => {
    const limits = {
      maxPacketBytes: 1024 * 1024,
      sessions: { maxBytesPerUser: 512 * 1024, maxBytes: 256 * 1024 },
    };
    expect(issuesOf({ ...mapConfig(), mqtt: { limits } })).toEqual([
      'mqtt.limits.sessions.maxBytesPerUser: must be at least mqtt.limits.maxPacketBytes (1048576), or a large QoS 2 publish never fits',
      'mqtt.limits.sessions.maxBytes: must be at least maxBytesPerUser (524288)',
    ]);
  });

  it('holds the replenishment section, whose SKUs, lanes and suppliers must be in the map', () => {
    const cfg = CentralConfig.parse({ ...mapConfig(), replenishment: { defaults: { reorderPoint: 2 } } });
    expect(cfg.replenishment.defaults.reorderPoint).toBe(2);
    expect(
      issuesOf({
        ...mapConfig(),
        replenishment: {
          skus: [{ sku: 'ghost-sku' }],
          lanes: [{ site: 'A', shelf: 'a1', lane: 'l9' }],
          webhooks: {
            suppliers: [{ supplier: 'Q', url: 'https://q.example/hook', secret: 'a-secret-of-16+chars' }],
          },
        },
      }),
    ).toEqual([
      'replenishment.skus.0.sku: unknown SKU "ghost-sku"',
      'replenishment.lanes.0: unknown lane "A/a1/l9"',
      'replenishment.webhooks.suppliers.0.supplier: unknown supplier "Q"',
    ]);
  });

  it('reports a bad file as a ShelfError naming the field', () => {
    try {
      parseConfigText(CentralConfig, 'mqtt:\n  port: 70000\n', 'central config');
      expect.unreachable();
    } catch (err) {
      expect(isShelfError(err, 'SHELF_ERR_INVALID')).toBe(true);
      expect((err as Error).message).toContain('mqtt.port');
    }
  });
});

describe('shelf map', () => {
  const map = new ShelfMap(CentralConfig.parse(mapConfig()));

  it('answers who owns a lane, which lanes a supplier owns, which agent serves a shelf', () => {
    expect(map.supplierOf('A', 'a1', 'l1')).toBe('X');
    expect(map.supplierOf('B', 'b1', 'l2')).toBe('Y');
    expect(map.supplierOf('A', 'a1', 'l9')).toBeUndefined();
    expect(map.lanesOf('X').map((l) => `${l.site}/${l.shelf}/${l.lane}`)).toEqual(['A/a1/l1', 'B/b1/l1']);
    expect(map.lanesOf('nobody')).toEqual([]);
    expect(map.agentOf('A', 'a1')).toBe('agent-a');
    expect(map.agentOf('B', 'a1')).toBeUndefined();
    expect(map.lane('A', 'a1', 'l1')).toMatchObject({
      sku: 'x-cola',
      unitWeightG: 350,
      capacity: 20,
      serial: 'SA1',
    });
    expect(map.agents()).toEqual([
      { site: 'A', agent: 'agent-a' },
      { site: 'B', agent: 'agent-b' },
    ]);
  });

  it('builds each agent’s lane settings from the map', () => {
    expect(map.laneSettingsFor('B', 'agent-b', 7)).toEqual({
      agent: 'agent-b',
      revision: 7,
      shelves: [
        {
          shelf: 'b1',
          serial: 'SB1',
          lanes: [
            { lane: 'l1', channels: [0], sku: 'x-cola', unitWeightG: 350, capacity: null },
            { lane: 'l2', channels: [1], sku: 'y-chips', unitWeightG: 120, capacity: null },
          ],
        },
      ],
    });
    expect(map.laneSettingsFor('A', 'nobody').shelves).toEqual([]);
  });

  it('stays fast with thousands of lanes (index lookups, not scans)', () => {
    const sites = Array.from({ length: 50 }, (_, s) => ({
      id: `s${s}`,
      shelves: Array.from({ length: 40 }, (_, h) => ({
        id: `h${h}`,
        serial: `S${s}x${h}`,
        agent: `ag${h % 4}`,
        lanes: Array.from({ length: 4 }, (_, l) => ({
          id: `l${l}`,
          channels: [l],
          sku: l % 2 ? 'x-cola' : 'y-chips',
        })),
      })),
    }));
    const big = new ShelfMap(CentralConfig.parse({ ...mapConfig(), sites }));
    expect(big.laneCount).toBe(8_000);
    expect(big.lanesOf('X')).toHaveLength(4_000);
    expect(big.supplierOf('s49', 'h39', 'l3')).toBe('X');
  });
});
