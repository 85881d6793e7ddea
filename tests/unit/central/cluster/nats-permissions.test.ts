/**
 * The NATS permissions `shelfsense cluster nats-auth` writes, checked against the embedded broker's
 * ACL (broker/src/mqtt/acl.ts) topic by topic: for every role and every topic of a two-site map,
 * NATS allows a publish or a read exactly when the broker does — except the one role NATS cannot
 * express (a technician's command, whose actor only central can stamp), which NATS refuses.
 */
import { canPublish, canRead } from '@shelfsense/broker';
import { mqttToNats, natsPermissions, natsSubjectsOf, type SubjectRules } from '@shelfsense/central/cluster';
import { COMMANDS, type Grant, parseTopic, ShelfMap } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { TWO_SITE_CATALOGUE } from './fixtures.js';

const map = new ShelfMap(TWO_SITE_CATALOGUE);

const GRANTS: Grant[] = [
  { role: 'admin' },
  { role: 'service' },
  { role: 'supplier', supplier: 'acme' },
  { role: 'supplier', supplier: 'globex' },
  { role: 'agent', site: 'store-1', agent: 'pi-1' },
  { role: 'agent', site: 'store-1', agent: 'pi-2' },
  { role: 'agent', site: 'store-2', agent: 'pi-3' },
  { role: 'operator', sites: ['store-1'] },
  { role: 'technician', sites: ['store-1', 'store-2'] },
  { role: 'homeassistant', sites: ['store-1'] },
  { role: 'homeassistant', sites: ['store-2'], prefix: 'ha' },
];

/** Every concrete topic of the map, a shelf it does not know yet, and some outside the tree. */
function allTopics(): string[] {
  const t: string[] = [
    'shelfsense/v1/catalogue',
    'elsewhere/x',
    'homeassistant/status',
    'ha/status',
    'homeassistant/shelfsense/availability',
    'ha/shelfsense/availability',
  ];
  for (const site of ['store-1', 'store-2']) {
    for (const shelf of ['shelf-a', 'shelf-b', 'shelf-c', 'shelf-new']) {
      t.push(`shelfsense/v1/${site}/${shelf}/health`);
      for (const lane of ['L0', 'L1'])
        for (const k of ['level', 'event', 'observation', 'calibration', 'order', 'alert'])
          t.push(`shelfsense/v1/${site}/${shelf}/${lane}/${k}`);
    }
    for (const agent of ['pi-1', 'pi-2', 'pi-3']) {
      for (const k of ['status', 'lanes', 'stored', 'stream'])
        t.push(`shelfsense/v1/${site}/agents/${agent}/${k}`);
      for (const c of COMMANDS) {
        t.push(`shelfsense/v1/${site}/agents/${agent}/request/${c}`);
        t.push(`shelfsense/v1/${site}/agents/${agent}/response/${c}`);
      }
    }
    for (const prefix of ['homeassistant', 'ha'])
      for (const component of ['sensor', 'binary_sensor'])
        t.push(`${prefix}/${component}/shelfsense-${site}/shelf-a_L0/config`);
  }
  return t;
}

/** NATS subject matching: `*` one token, `>` one or more at the end. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

function allowed(r: SubjectRules, subject: string): boolean {
  const allow = r.allow === undefined || r.allow.some((a) => matches(a, subject));
  return allow && !(r.deny ?? []).some((d) => matches(d, subject));
}

const label = (g: Grant) => JSON.stringify(g);

describe('MQTT topic filters as NATS subjects', () => {
  it('maps / to . and + to * and # to >', () => {
    expect(mqttToNats('shelfsense/v1/+/agents/+/request/#')).toBe('shelfsense.v1.*.agents.*.request.>');
    expect(mqttToNats('#')).toBe('>');
  });

  it('[MQTT-4.7.1-2] a/# covers a itself: both subjects', () => {
    expect(natsSubjectsOf('shelfsense/v1/store-1/#')).toEqual([
      'shelfsense.v1.store-1',
      'shelfsense.v1.store-1.>',
    ]);
    expect(natsSubjectsOf('a/+/b')).toEqual(['a.*.b']);
  });

  it('refuses what has no subject form, naming the filter', () => {
    for (const bad of ['a.b/c', 'a//c', 'a/#/c', 'a b/c', 'a/*']) {
      expect(() => mqttToNats(bad)).toThrow(expect.objectContaining({ code: 'SHELF_ERR_TOPIC' }));
    }
    expect(() => mqttToNats('x.y')).toThrow(/"x\.y"/);
  });
});

describe('NATS permissions mirror the broker ACL (docs/security.md)', () => {
  const topics = allTopics();

  it.each(GRANTS.map((g) => [label(g), g] as const))(
    '%s: reads exactly what the broker lets it read',
    (_, g) => {
      const p = natsPermissions(g, map);
      for (const topic of topics) {
        const broker = canRead({ user: 'u', grant: g }, topic, parseTopic(topic), map);
        expect(allowed(p.subscribe, mqttToNats(topic)), `${label(g)} reads ${topic}`).toBe(broker);
      }
    },
  );

  it.each(GRANTS.map((g) => [label(g), g] as const))('%s: publishes what the broker lets it', (_, g) => {
    const p = natsPermissions(g, map);
    for (const topic of topics) {
      let broker = canPublish({ user: 'u', grant: g }, topic, parseTopic(topic), map).ok;
      // NATS cannot stamp a request's actor: a technician's commands go through central's API.
      if (g.role === 'technician') broker = false;
      expect(allowed(p.publish, mqttToNats(topic)), `${label(g)} publishes ${topic}`).toBe(broker);
    }
  });

  it('every reader may take QoS 1 deliveries ($MQTT.sub.>) and no reader but admin and service reads NATS’s own subjects', () => {
    for (const g of GRANTS) {
      const p = natsPermissions(g, map);
      expect(allowed(p.subscribe, '$MQTT.sub.abc'), label(g)).toBe(true);
      for (const internal of [
        '$MQTT.rmsgs',
        '$MQTT.sess.x',
        '$MQTT.JSA.n.SC.1',
        '$JS.API.INFO',
        '$MQTT.msgs.a',
      ])
        expect(allowed(p.subscribe, internal), `${label(g)} reads ${internal}`).toBe(false);
      for (const internal of ['$JS.API.STREAM.DELETE.x', '$MQTT.rmsgs', '$MQTT.sub.x', '$JS.ACK.x'])
        expect(allowed(p.publish, internal), `${label(g)} publishes ${internal}`).toBe(false);
    }
  });

  it('a supplier’s allow list names only its own lanes; agents are denied the shelves of other agents', () => {
    const acme = natsPermissions({ role: 'supplier', supplier: 'acme' }, map).subscribe.allow ?? [];
    expect(acme.filter((s) => s.startsWith('shelfsense.v1.store'))).toEqual([
      'shelfsense.v1.store-1.shelf-a.L0.level',
      'shelfsense.v1.store-1.shelf-a.L0.event',
      'shelfsense.v1.store-1.shelf-a.L0.order',
      'shelfsense.v1.store-2.shelf-c.L0.level',
      'shelfsense.v1.store-2.shelf-c.L0.event',
      'shelfsense.v1.store-2.shelf-c.L0.order',
    ]);
    // No observations, not even of its own lanes: they tell of the store's shelves.
    for (const supplier of ['acme', 'globex'])
      expect(
        (natsPermissions({ role: 'supplier', supplier }, map).subscribe.allow ?? []).filter((s) =>
          s.endsWith('.observation'),
        ),
      ).toEqual([]);
    const pi1 = natsPermissions({ role: 'agent', site: 'store-1', agent: 'pi-1' }, map).publish;
    expect(pi1.deny).toContain('shelfsense.v1.store-1.shelf-b.>');
    expect(pi1.deny).not.toContain('shelfsense.v1.store-1.shelf-a.>');
  });
});
