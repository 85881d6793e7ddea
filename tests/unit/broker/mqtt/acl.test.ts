/**
 * The ACL as pure functions of (principal, topic, shelf map), plus properties tying the subscribe
 * decision to the per-message read decision.
 */
import {
  canPublish,
  canRead,
  canSubscribe,
  filterMatches,
  filtersIntersect,
  type Principal,
  readablePatterns,
} from '@shelfsense/broker';
import { CentralConfig, Grant, parseTopic, ShelfMap } from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapConfig } from '../../../integration/broker/helpers.js';

const map = new ShelfMap(CentralConfig.parse(mapConfig()));
const who = (grant: Grant): Principal => ({ user: 'u', grant });
const R = 'shelfsense/v1';

const pub = (g: Grant, topic: string) => canPublish(who(g), topic, parseTopic(topic), map).ok;
const read = (g: Grant, topic: string) => canRead(who(g), topic, parseTopic(topic), map);
const sub = (g: Grant, filter: string) => canSubscribe(who(g), filter, map).ok;

const agentA: Grant = { role: 'agent', site: 'A', agent: 'agent-a' };
const supX: Grant = { role: 'supplier', supplier: 'X' };
const opA: Grant = { role: 'operator', sites: ['A'] };
const techA: Grant = { role: 'technician', sites: ['A'] };
const haA: Grant = { role: 'homeassistant', sites: ['A'] };
const haPrefixed: Grant = { role: 'homeassistant', sites: ['B'], prefix: 'hass' };
const svc: Grant = { role: 'service' };
const admin: Grant = { role: 'admin' };
const GRANTS = [
  agentA,
  { role: 'agent', site: 'B', agent: 'agent-b' },
  supX,
  { role: 'supplier', supplier: 'Y' },
  opA,
  techA,
  haA,
  haPrefixed,
  svc,
  admin,
] as Grant[];

describe('ACL: publish', () => {
  it('an agent publishes only under its own site, for shelves the map gives it (or does not know)', () => {
    expect(pub(agentA, `${R}/A/a1/l1/level`)).toBe(true);
    expect(pub(agentA, `${R}/A/a1/l1/event`)).toBe(true);
    expect(pub(agentA, `${R}/A/a1/health`)).toBe(true);
    expect(pub(agentA, `${R}/A/new-shelf/l1/level`)).toBe(true);
    expect(pub(agentA, `${R}/B/b1/l1/level`)).toBe(false);
    expect(pub({ ...agentA, agent: 'agent-z' } as Grant, `${R}/A/a1/l1/level`)).toBe(false);
    expect(pub(agentA, `${R}/A/agents/agent-a/status`)).toBe(true);
    expect(pub(agentA, `${R}/A/agents/agent-a/response/tare`)).toBe(true);
    expect(pub(agentA, `${R}/A/agents/agent-b/status`)).toBe(false);
    expect(pub(agentA, `${R}/A/agents/agent-a/lanes`)).toBe(false);
    expect(pub(agentA, `${R}/A/agents/agent-a/stored`)).toBe(false);
    expect(pub(agentA, `${R}/A/agents/agent-a/request/tare`)).toBe(false);
    expect(pub(agentA, `${R}/A/a1/l1/order`)).toBe(false);
  });

  it('an agent publishes observations of its own shelves only; no person does', () => {
    expect(pub(agentA, `${R}/A/a1/l1/observation`)).toBe(true);
    expect(pub(agentA, `${R}/A/new-shelf/l1/observation`)).toBe(true);
    expect(pub(agentA, `${R}/B/b1/l1/observation`)).toBe(false);
    expect(pub({ role: 'agent', site: 'A', agent: 'agent-z' }, `${R}/A/a1/l1/observation`)).toBe(false);
    for (const g of [supX, opA, techA, haA]) expect(pub(g, `${R}/A/a1/l1/observation`), g.role).toBe(false);
  });

  it('technicians send requests to agents of their sites only; suppliers and operators publish nothing', () => {
    expect(pub(techA, `${R}/A/agents/agent-a/request/calibrate`)).toBe(true);
    expect(pub(techA, `${R}/B/agents/agent-b/request/calibrate`)).toBe(false);
    expect(pub(techA, `${R}/A/a1/l1/level`)).toBe(false);
    for (const t of [`${R}/A/a1/l1/level`, `${R}/A/agents/agent-a/request/tare`, 'x/y']) {
      expect(pub(supX, t)).toBe(false);
      expect(pub(opA, t)).toBe(false);
    }
  });

  it('the service role publishes lane settings, stored marks, orders, alerts and relayed requests only', () => {
    for (const t of [
      `${R}/A/agents/agent-a/lanes`,
      `${R}/A/agents/agent-a/stored`,
      `${R}/A/a1/l1/order`,
      `${R}/A/a1/l1/alert`,
      `${R}/A/agents/agent-a/request/tare`,
    ]) {
      expect(pub(svc, t), t).toBe(true);
    }
    for (const t of [`${R}/A/a1/l1/level`, `${R}/A/agents/agent-a/status`, 'elsewhere'])
      expect(pub(svc, t), t).toBe(false);
  });

  it('[HA-ACL] Home Assistant publishes only <prefix>/status (birth and last will)', () => {
    expect(pub(haA, 'homeassistant/status')).toBe(true);
    expect(pub(haPrefixed, 'hass/status')).toBe(true);
    for (const t of [
      'homeassistant/sensor/shelfsense/A_a1_l1_count/config',
      'homeassistant/status/x',
      'homeassistant',
      'hass/status',
      `${R}/A/a1/l1/level`,
      `${R}/A/agents/agent-a/status`,
      `${R}/A/agents/agent-a/request/tare`,
      'elsewhere',
    ]) {
      expect(pub(haA, t), t).toBe(false);
    }
    expect(pub(haPrefixed, 'homeassistant/status')).toBe(false);
    // Other roles may not publish Home Assistant's status (admin aside).
    for (const g of [agentA, supX, opA, techA, svc]) expect(pub(g, 'homeassistant/status')).toBe(false);
  });

  it('nobody publishes to $ topics; admin publishes anything else', () => {
    for (const g of GRANTS) expect(pub(g, '$SYS/x/heartbeat')).toBe(false);
    expect(pub(admin, 'anything/at/all')).toBe(true);
  });
});

describe('ACL: read and subscribe', () => {
  it('a supplier reads levels, events and orders of its own lanes at every site — nothing else', () => {
    expect(read(supX, `${R}/A/a1/l1/level`)).toBe(true);
    expect(read(supX, `${R}/B/b1/l1/order`)).toBe(true);
    expect(read(supX, `${R}/A/a1/l2/level`)).toBe(false);
    expect(read(supX, `${R}/A/a1/l1/alert`)).toBe(false);
    expect(read(supX, `${R}/A/a1/l1/calibration`)).toBe(false);
    expect(read(supX, `${R}/A/a1/health`)).toBe(false);
    expect(read(supX, `${R}/A/unknown/l1/level`)).toBe(false);
    expect(sub(supX, '#')).toBe(true);
    expect(sub(supX, `${R}/+/+/l1/level`)).toBe(true);
    expect(sub(supX, `${R}/A/a1/l2/level`)).toBe(false);
    expect(sub(supX, `${R}/+/+/+/alert`)).toBe(false);
    expect(sub(supX, '$SYS/#')).toBe(false);
  });

  it('observations: operators and technicians of the site read them; no supplier, however it subscribes', () => {
    const supY: Grant = { role: 'supplier', supplier: 'Y' };
    for (const g of [opA, techA]) {
      expect(read(g, `${R}/A/a1/l1/observation`), g.role).toBe(true);
      expect(read(g, `${R}/B/b1/l1/observation`), g.role).toBe(false);
      expect(sub(g, `${R}/A/+/+/observation`), g.role).toBe(true);
    }
    for (const g of [supX, supY]) {
      // Its own lane's (l1 is X's, l2 is Y's) and another supplier's alike.
      for (const t of [`${R}/A/a1/l1/observation`, `${R}/A/a1/l2/observation`, `${R}/B/b1/l1/observation`])
        expect(read(g, t), `${g.supplier} ${t}`).toBe(false);
      for (const f of [
        `${R}/+/+/+/observation`,
        `${R}/A/a1/l1/observation`,
        `${R}/A/a1/l2/observation`,
        `${R}/A/a1/+/observation`,
      ])
        expect(sub(g, f), `${g.supplier} ${f}`).toBe(false);
    }
    // A wide filter is granted for what it may read; each observation is still refused on delivery.
    fc.assert(
      fc.property(
        fc.constantFrom('A', 'B'),
        fc.constantFrom('a1', 'b1'),
        fc.constantFrom('l1', 'l2'),
        (s, h, l) => {
          const t = `${R}/${s}/${h}/${l}/observation`;
          return !read(supX, t) && !read({ role: 'supplier', supplier: 'Y' }, t);
        },
      ),
    );
    expect(read(haA, `${R}/A/a1/l1/observation`)).toBe(false);
  });

  it('[HA-ACL] Home Assistant reads its status, its sites’ discovery configs and, at its sites, lane levels and agent status only', () => {
    for (const t of [
      'homeassistant/status',
      'homeassistant/sensor/shelfsense-A/A_a1_l1_count/config',
      `${R}/A/a1/l1/level`,
      `${R}/A/a1/l2/level`,
      `${R}/A/unknown/l9/level`,
      `${R}/A/agents/agent-a/status`,
    ]) {
      expect(read(haA, t), t).toBe(true);
    }
    for (const t of [
      `${R}/B/b1/l1/level`,
      `${R}/B/agents/agent-b/status`,
      // Another site's lane names, also where the site id starts like this one's.
      'homeassistant/sensor/shelfsense-B/B_b1_l1_count/config',
      'homeassistant/sensor/shelfsense-A_x/A_x_l1_count/config',
      'homeassistant/sensor/shelfsense-A',
      'homeassistant/sensor/shelfsense/A_a1_l1_count/config',
      'homeassistant/sensor/other-A/A_a1_l1_count/config',
      `${R}/A/a1/l1/event`,
      `${R}/A/a1/l1/order`,
      `${R}/A/a1/l1/alert`,
      `${R}/A/a1/l1/calibration`,
      `${R}/A/a1/health`,
      `${R}/A/agents/agent-a/lanes`,
      `${R}/A/agents/agent-a/request/tare`,
      `${R}/A/agents/agent-a/response/tare`,
      `${R}/A/agents/agent-a/stream`,
      'hass/status',
      'homeassistantx/status',
      '$SYS/broker/uptime',
      'elsewhere',
    ]) {
      expect(read(haA, t), t).toBe(false);
    }
    // Binary sensors, entity states and Shelfsense's availability, by the same site rule.
    expect(read(haA, 'homeassistant/binary_sensor/shelfsense-A/A_a1_l1_low_stock/state')).toBe(true);
    expect(read(haA, 'homeassistant/binary_sensor/shelfsense-B/B_b1_l1_low_stock/state')).toBe(false);
    expect(read(haA, 'homeassistant/shelfsense/availability')).toBe(true);
    expect(read(haPrefixed, 'hass/sensor/shelfsense-B/B_b1_l1_count/config')).toBe(true);
    expect(read(haPrefixed, 'hass/sensor/shelfsense-A/A_a1_l1_count/config')).toBe(false);
    expect(read(haPrefixed, 'homeassistant/status')).toBe(false);
    expect(read(haPrefixed, `${R}/B/b1/l1/level`)).toBe(true);
    expect(read(haPrefixed, `${R}/A/a1/l1/level`)).toBe(false);

    expect(readablePatterns(who(haA), map).sort()).toEqual(
      [
        'homeassistant/status',
        'homeassistant/shelfsense/availability',
        'homeassistant/sensor/shelfsense-A/#',
        'homeassistant/binary_sensor/shelfsense-A/#',
        `${R}/A/+/+/level`,
        `${R}/A/agents/+/status`,
        `${R}/catalogue`,
      ].sort(),
    );
    expect(sub(haA, 'homeassistant/#')).toBe(true);
    expect(sub(haA, 'homeassistant/sensor/+/+/config')).toBe(true);
    expect(sub(haA, 'homeassistant/sensor/shelfsense-B/#')).toBe(false);
    expect(sub(haA, `${R}/+/+/+/level`)).toBe(true);
    expect(sub(haA, `${R}/+/agents/+/status`)).toBe(true);
    expect(sub(haA, '#')).toBe(true);
    expect(sub(haA, `${R}/B/+/+/level`)).toBe(false);
    expect(sub(haA, `${R}/A/+/+/event`)).toBe(false);
    expect(sub(haA, `${R}/A/+/health`)).toBe(false);
    expect(sub(haA, '$SYS/#')).toBe(false);
    expect(sub(haA, 'hass/#')).toBe(false);
  });

  it('[HA-ACL] a grant cannot take the Shelfsense tree as its discovery prefix', () => {
    expect(Grant.safeParse({ role: 'homeassistant', sites: ['A'], prefix: 'shelfsense' }).success).toBe(
      false,
    );
    expect(Grant.safeParse({ role: 'homeassistant', sites: [] }).success).toBe(false);
    expect(Grant.safeParse({ role: 'homeassistant', sites: ['A'], prefix: 'ha/x' }).success).toBe(false);
    expect(Grant.safeParse({ role: 'homeassistant', sites: ['A'] }).success).toBe(true);
  });

  it('[catalogue] every user reads the catalogue version; only central announces it', () => {
    const agentB: Grant = { role: 'agent', site: 'B', agent: 'agent-b' };
    const noLanes: Grant = { role: 'supplier', supplier: 'nobody' };
    for (const g of [...GRANTS, agentB, noLanes]) {
      expect(read(g, `${R}/catalogue`), g.role).toBe(true);
      expect(sub(g, `${R}/catalogue`), g.role).toBe(true);
      expect(pub(g, `${R}/catalogue`), g.role).toBe(g.role === 'service' || g.role === 'admin');
    }
    // It opens nothing else: a supplier without lanes still reads and subscribes to no lane.
    expect(sub(noLanes, `${R}/+/+/+/level`)).toBe(false);
    expect(read(noLanes, `${R}/A/a1/l1/level`)).toBe(false);
    expect(read(supX, `${R}/catalogue/a1/l1/level`)).toBe(false);
  });

  it('readable patterns: only admin sees $SYS; malformed and shared subscriptions are refused', () => {
    expect(sub(admin, '$SYS/#')).toBe(true);
    expect(sub(svc, '$SYS/#')).toBe(false);
    expect(sub(admin, 'a/#/b')).toBe(false);
    expect(sub(admin, 'a/b+')).toBe(false);
    expect(sub(admin, '$share/g/a')).toBe(false);
    expect(readablePatterns(who(opA), map)).toContain(`${R}/A/+/health`);
  });

  const segment = fc.constantFrom('A', 'B', 'a1', 'b1', 'l1', 'l2', 'agents', 'agent-a', 'agent-b', 'zz');
  const kind = fc.constantFrom(
    'level',
    'event',
    'order',
    'alert',
    'calibration',
    'health',
    'status',
    'lanes',
    'stored',
    'stream',
  );
  const topicArb = fc.oneof(
    fc.tuple(segment, segment, segment, kind).map(([s, h, l, k]) => `${R}/${s}/${h}/${l}/${k}`),
    fc.tuple(segment, segment).map(([s, h]) => `${R}/${s}/${h}/health`),
    fc.tuple(segment, segment, kind).map(([s, a, k]) => `${R}/${s}/agents/${a}/${k}`),
    fc
      .tuple(segment, segment, fc.constantFrom('request', 'response'), fc.constantFrom('tare', 'identify'))
      .map(([s, a, d, c]) => `${R}/${s}/agents/${a}/${d}/${c}`),
    fc
      .tuple(
        fc.constantFrom('homeassistant', 'hass', 'other'),
        fc.constantFrom(
          'status',
          'sensor/shelfsense/x/config',
          'sensor/shelfsense-A/x/config',
          'sensor/shelfsense-B/x/config',
        ),
      )
      .map(([p, rest]) => `${p}/${rest}`),
  );
  const filterArb = fc
    .tuple(topicArb, fc.array(fc.nat(6), { maxLength: 3 }), fc.boolean())
    .map(([t, plus, hash]) => {
      const levels = t.split('/');
      for (const i of plus) if (i < levels.length) levels[i] = '+';
      if (hash) levels.splice(Math.min(levels.length - 1, 2 + (plus[0] ?? 0)), levels.length, '#');
      return levels.join('/');
    });

  it('[property] a readable topic can always be subscribed to exactly (no false SUBACK 0x80)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GRANTS), topicArb, (g, t) => {
        if (read(g, t)) expect(sub(g, t)).toBe(true);
      }),
      { seed: 7, numRuns: 3_000 },
    );
  });

  it('[property] a refused filter matches no topic the principal may read', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GRANTS), filterArb, topicArb, (g, f, t) => {
        if (!sub(g, f) && filterMatches(f, t)) expect(read(g, t)).toBe(false);
      }),
      { seed: 11, numRuns: 5_000 },
    );
  });

  it('[property] filters that both match a topic intersect', () => {
    fc.assert(
      fc.property(filterArb, filterArb, topicArb, (a, b, t) => {
        if (filterMatches(a, t) && filterMatches(b, t)) expect(filtersIntersect(a, b)).toBe(true);
      }),
      { seed: 13, numRuns: 5_000 },
    );
  });
});
