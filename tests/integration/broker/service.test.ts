/**
 * The broker as a service: lane settings published retained at start, the technician actor
 * stamp, tokens, anonymous access, last wills, counters and metrics, denial logs, and stop().
 */
import { connect as netConnect } from 'node:net';
import { Writable } from 'node:stream';
import { loadTokenSecret, TokenSigner } from '@shelfsense/broker';
import { LaneSettingsPayload, parseJsonWith } from '@shelfsense/protocol';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  login,
  mapConfig,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
} from './helpers.js';

let tb: TestBroker | null = null;
const clients: Recorded[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end()));
  await tb?.close();
  tb = null;
});
const track = async (p: Promise<Recorded>) => {
  const c = await p;
  clients.push(c);
  return c;
};

const REQ = 'shelfsense/v1/A/agents/agent-a/request/tare';

describe('broker service', () => {
  it('[lane settings] each agent gets its lanes retained on start; the revision holds across restarts and grows on change', async () => {
    tb = await startBroker();
    const topic = 'shelfsense/v1/A/agents/agent-a/lanes';
    const agent = await track(connect(tb.url, login('agent-a')));
    expect(await subscribeCodes(agent.client, [topic])).toEqual([1]);
    const m = await agent.waitFor((x) => x.topic === topic && x.retain, 'retained lane settings');
    const settings = parseJsonWith(LaneSettingsPayload, m.payload, 'lane settings');
    expect(settings.agent).toBe('agent-a');
    expect(settings.shelves).toEqual([
      {
        shelf: 'a1',
        serial: 'SA1',
        lanes: [
          { lane: 'l1', channels: [0], sku: 'x-cola', unitWeightG: 350, capacity: 20 },
          { lane: 'l2', channels: [1], sku: 'y-chips', unitWeightG: 120, capacity: null },
        ],
      },
    ]);
    // agent-b's settings are not agent-a's to read.
    expect(await subscribeCodes(agent.client, ['shelfsense/v1/B/agents/agent-b/lanes'])).toEqual([128]);

    // Same config and data dir: same revision. Changed lanes: a higher one.
    const { MqttBroker } = await import('@shelfsense/broker');
    const { buildConfig } = await import('./helpers.js');
    const revisionAfter = async (cfg: ReturnType<typeof buildConfig>) => {
      const b = new MqttBroker({ config: cfg, logger: pino({ level: 'silent' }) });
      await b.start();
      try {
        const c = await connect(`mqtt://127.0.0.1:${b.ports.tcp}`, login('agent-a'));
        await subscribeCodes(c.client, [topic]);
        const r = await c.waitFor((x) => x.topic === topic, 'lane settings');
        await c.end();
        return parseJsonWith(LaneSettingsPayload, r.payload, 'lane settings').revision;
      } finally {
        await b.stop();
      }
    };
    const dir = tb.dir;
    await agent.end();
    await tb.broker.stop();
    expect(await revisionAfter(buildConfig(dir))).toBe(settings.revision);
    const changed = mapConfig();
    changed.sites![0]!.shelves![0]!.lanes[0]!.capacity = 24;
    expect(await revisionAfter(buildConfig(dir, changed))).toBeGreaterThan(settings.revision);
  });

  it('[actor] a technician’s request claiming another user arrives stamped with the authenticated user', async () => {
    tb = await startBroker();
    const agent = await track(connect(tb.url, login('agent-a')));
    expect(await subscribeCodes(agent.client, ['shelfsense/v1/A/agents/agent-a/request/+'])).toEqual([1]);
    const tech = await track(connect(tb.url, login('tech-a')));
    const body = {
      transaction: 'tx-1',
      args: { shelf: 'a1', lane: 'l1' },
      actor: { user: 'someone-else', role: 'admin' },
      smuggled: 'dropped',
    };
    await tech.client.publishAsync(REQ, JSON.stringify(body), { qos: 1 });
    const m = await agent.waitFor((x) => x.topic === REQ, 'the request at the agent');
    expect(JSON.parse(m.payload)).toEqual({
      transaction: 'tx-1',
      args: { shelf: 'a1', lane: 'l1' },
      actor: { user: 'tech-a', role: 'technician' },
    });
    // A request with no actor at all is stamped too.
    await tech.client.publishAsync(REQ, JSON.stringify({ transaction: 'tx-2' }), { qos: 1 });
    const m2 = await agent.waitFor((x) => x.payload.includes('tx-2'), 'the second request');
    expect(JSON.parse(m2.payload).actor).toEqual({ user: 'tech-a', role: 'technician' });
  });

  it('[actor] a body that is not a CommandRequest, or a retained request, is refused and never reaches the agent', async () => {
    tb = await startBroker();
    const agent = await track(connect(tb.url, login('agent-a')));
    await subscribeCodes(agent.client, ['shelfsense/v1/A/agents/agent-a/request/+']);
    for (const [payload, retain] of [
      ['not json', false],
      [JSON.stringify({ args: {} }), false],
      [JSON.stringify({ transaction: 'retained' }), true],
    ] as const) {
      const tech = await track(connect(tb.url, login('tech-a')));
      const closed = tech.closed();
      tech.client.publish(REQ, payload, { qos: 1, retain });
      await closed;
    }
    expect(tb.broker.counters.denied.invalid_request).toBe(2);
    expect(tb.broker.counters.denied.publish).toBe(1);
    const ok = await track(connect(tb.url, login('tech-a')));
    await ok.client.publishAsync(REQ, JSON.stringify({ transaction: 'fine' }), { qos: 1 });
    await agent.waitFor((x) => x.payload.includes('fine'), 'the valid request');
    expect(agent.messages.map((x) => JSON.parse(x.payload).transaction)).toEqual(['fine']);
  });

  it('[tokens] a signed token logs in in place of the password; expired, tampered or borrowed tokens do not', async () => {
    tb = await startBroker();
    const token = tb.broker.issueToken('sup-x', 60_000);
    expect(tb.broker.verifyToken(token)).toMatchObject({
      user: 'sup-x',
      grant: { role: 'supplier', supplier: 'X' },
    });
    const ok = await track(connect(tb.url, { username: 'sup-x', password: token }));
    expect(ok.client.connected).toBe(true);
    const past = new TokenSigner(loadTokenSecret(tb.dir), () => Date.now() - 120_000);
    const expired = past.issue('sup-x', { role: 'supplier', supplier: 'X' }, 60_000);
    const forged = new TokenSigner(Buffer.alloc(32, 7)).issue('sup-x', { role: 'admin' }, 60_000);
    const tampered = token.replace(/\.[^.]+$/, (sig) => `${sig.slice(0, -2)}AA`);
    for (const [what, username, password] of [
      ['expired', 'sup-x', expired],
      ['signed with another secret', 'sup-x', forged],
      ['tampered signature', 'sup-x', tampered],
      ['another user’s token', 'sup-y', token],
    ]) {
      const err = await connect(tb.url, { username, password }).then(
        async (c) => {
          await c.end();
          return null;
        },
        (e: { code?: number }) => e,
      );
      expect(err?.code, what).toBe(4);
    }
  });

  it('[anonymous] refused by default; allowed only with the grant the config gives', async () => {
    tb = await startBroker({ mqtt: { anonymous: { role: 'operator', sites: ['A'] } } });
    const anon = await track(connect(tb.url));
    expect(
      await subscribeCodes(anon.client, ['shelfsense/v1/A/+/+/level', 'shelfsense/v1/B/+/+/level']),
    ).toEqual([1, 128]);
    const closed = anon.closed();
    anon.client.publish('shelfsense/v1/A/a1/l1/level', 'x', { qos: 1 });
    await closed;
    expect(tb.broker.counters.denied.publish).toBe(1);
  });

  it('[will] an agent’s last will must be its own status; it is published when the agent drops', async () => {
    tb = await startBroker();
    const observer = await track(connect(tb.url, login('svc')));
    await subscribeCodes(observer.client, ['shelfsense/v1/+/agents/+/status']);
    const foreign = {
      topic: 'shelfsense/v1/B/agents/agent-b/status',
      payload: 'offline',
      qos: 1 as const,
      retain: true,
    };
    const refused = await connect(tb.url, { ...login('agent-a'), will: foreign }).then(
      async (c) => {
        await c.end();
        return null;
      },
      (e: { code?: number }) => e,
    );
    expect(refused?.code).toBe(5);
    expect(tb.broker.counters.denied.will).toBe(1);
    const own = {
      topic: 'shelfsense/v1/A/agents/agent-a/status',
      payload: 'gone',
      qos: 1 as const,
      retain: true,
    };
    const agent = await connect(tb.url, { ...login('agent-a'), will: own });
    agent.client.stream.destroy(); // an abrupt loss, not a clean DISCONNECT
    const m = await observer.waitFor((x) => x.payload === 'gone', 'the last will');
    expect(m.topic).toBe(own.topic);
  });

  it('[metrics] counters as a plain object and as prom-client metrics on the registry passed in', async () => {
    const registry = new Registry();
    tb = await startBroker({}, { registry });
    const sub = await track(connect(tb.url, login('sup-x')));
    await subscribeCodes(sub.client, ['#', 'shelfsense/v1/A/agents/agent-a/lanes']);
    const agent = await track(connect(tb.url, login('agent-a')));
    await agent.client.publishAsync('shelfsense/v1/A/a1/l2/level', 'theirs', { qos: 1 }); // withheld
    await agent.client.publishAsync('shelfsense/v1/A/a1/l1/level', 'mine', { qos: 1 }); // to sup-x
    await sub.waitFor((m) => m.payload === 'mine', 'the delivered level');
    await connect(tb.url, login('agent-a', 'wrong')).catch(() => {});
    const c = tb.broker.counters;
    // Withheld from sup-x's `#`: the two agents' retained lane settings and Y's level.
    expect(c).toMatchObject({ connections: 2, messagesIn: 2, messagesOut: 1, filtered: 3 });
    expect(c.denied).toMatchObject({ subscribe: 1, bad_credentials: 1, publish: 0 });
    const text = await registry.metrics();
    expect(text).toContain('shelfsense_mqtt_connections 2');
    expect(text).toContain('shelfsense_mqtt_messages_in_total 2');
    expect(text).toContain('shelfsense_mqtt_deliveries_filtered_total 3');
    expect(text).toContain('shelfsense_mqtt_denied_total{reason="subscribe"} 1');
    expect(text).toContain('shelfsense_mqtt_denied_total{reason="bad_credentials"} 1');
    expect(text).toContain('shelfsense_mqtt_dropped_total{reason="backlog"} 0');
    await tb.close();
    tb = null;
    expect(await registry.metrics()).not.toContain('shelfsense_mqtt_');
  });

  it('[logs] a denied action is logged with who, what and why', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    tb = await startBroker({}, { logger: pino({ level: 'warn' }, sink) });
    const sup = await track(connect(tb.url, login('sup-y')));
    const closed = sup.closed();
    sup.client.publish('shelfsense/v1/A/a1/l2/level', 'nope', { qos: 1 });
    await closed;
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        part: 'broker',
        user: 'sup-y',
        role: 'supplier',
        action: 'publish',
        topic: 'shelfsense/v1/A/a1/l2/level',
        why: 'the supplier role may not publish',
      }),
    );
  });

  it('[lifecycle] stop() ends every connection — even one that never sent CONNECT — and frees the ports', async () => {
    tb = await startBroker();
    const port = tb.broker.ports.tcp as number;
    const idle = netConnect(port, '127.0.0.1');
    await new Promise<void>((r) => idle.once('connect', () => r()));
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    idle.on('error', () => {});
    const c = await connect(tb.url, login('admin'));
    const cClosed = c.closed();
    await tb.broker.stop();
    await Promise.all([idleClosed, cClosed]);
    expect(tb.broker.ports).toEqual({ tcp: null, tls: null, ws: null });
    const refused = await new Promise<string>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    // It starts again (on new ephemeral ports) after a stop.
    await tb.broker.start();
    const again = await track(connect(`mqtt://127.0.0.1:${tb.broker.ports.tcp}`, login('admin')));
    expect(again.client.connected).toBe(true);
  });

  it('[websocket] a WebSocket listener of its own when no HTTP server is shared; other paths get 404', async () => {
    tb = await startBroker({ mqtt: { websocket: { port: 0 } } }, { httpServer: undefined });
    const port = tb.broker.ports.ws as number;
    expect(port).toBeGreaterThan(0);
    const c = await track(connect(`ws://127.0.0.1:${port}/mqtt`, login('op-a')));
    expect(await subscribeCodes(c.client, ['shelfsense/v1/A/+/+/level'])).toEqual([1]);
    const status = await new Promise<string>((resolve) => {
      const s = netConnect(port, '127.0.0.1', () =>
        s.write(
          'GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      );
      let text = '';
      s.on('data', (d) => {
        text += d;
      });
      s.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
      s.on('error', () => resolve(text));
    });
    expect(status).toBe('HTTP/1.1 404 Not Found');
  });
});
