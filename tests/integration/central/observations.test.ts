/**
 * Lane observations through a real central (embedded aedes broker, SQLite store, HTTP API): an
 * agent publishes them with its own credentials; central stores them once per seq, opens and
 * clears their alerts, serves them over HTTP by role, and a technician accepts a unit-weight
 * proposal, which reaches the agent as new lane settings. Bad payloads are refused with a logged
 * reason and do not stop ingest; suppliers never read observations, over MQTT or HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Central, serviceParts } from '@shelfsense/central';
import {
  type CentralConfig,
  CentralConfig as CentralConfigSchema,
  clientIds,
  type LaneSettingsPayload,
  type ObservationPayload,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { event } from '../../unit/central/store/fixtures.js';

const PASSWORD = 'correct horse battery';
/** Wednesday 2 December 2026, 10:00 in Berlin: the store is open. */
const OPEN_TS = Date.UTC(2026, 11, 2, 9, 0);
/** Sunday 6 December 2026, 03:12 in Berlin: closed. */
const CLOSED_TS = Date.UTC(2026, 11, 6, 2, 12);

function config(dataDir: string): CentralConfig {
  return parseWith(
    CentralConfigSchema,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
      suppliers: [{ id: 'acme' }, { id: 'crunchy' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 120, supplier: 'crunchy' },
      ],
      sites: [
        {
          id: 's1',
          openingHours: {
            timezone: 'Europe/Berlin',
            open: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '07:00', to: '21:00' }],
          },
          shelves: [
            {
              id: 'a',
              serial: 'SN0001',
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola', capacity: 24 },
                { id: 'L1', channels: [1], sku: 'chips', capacity: 24 },
              ],
            },
          ],
        },
      ],
    },
    'test central config',
  );
}

let seq = 0;
function observation(
  over: Partial<ObservationPayload> & Pick<ObservationPayload, 'kind'>,
): ObservationPayload {
  return {
    agent: 'pi-1',
    serial: 'SN0001',
    sku: 'cola',
    observation: `o-${seq + 1}`,
    state: 'open',
    grams: 212,
    items: null,
    otherLane: null,
    cause: null,
    proposal: null,
    detail: '',
    ts: OPEN_TS + seq,
    seq: ++seq,
    frameSeq: seq,
    ...over,
  };
}

describe('lane observations through central', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observations-'));
  let central: Central;
  let agent: MqttClient;
  const clients: MqttClient[] = [];
  const logs: { msg: string; err?: string; topic?: string }[] = [];
  const heard: Record<string, string[]> = { ops: [], acme: [], crunchy: [], acmeWide: [] };
  const refused: string[] = [];
  const settings: LaneSettingsPayload[] = [];
  const tokens: Record<string, string> = {};

  const url = () => `mqtt://127.0.0.1:${central.mqttPort}`;
  const api = async (path: string, user: string, init: RequestInit = {}) => {
    const r = await fetch(`http://127.0.0.1:${central.httpPort}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[user]}` },
    });
    // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field below
    return { status: r.status, body: (await r.json()) as any };
  };
  const publish = (p: ObservationPayload, lane = 'L0') =>
    agent.publishAsync(topics.observation('s1', 'a', lane), JSON.stringify(p), { qos: 1 });
  const stored = () =>
    central.store!.history.observations({ site: 's1' }).map((r) => `${r.lane}:${r.kind}:${r.state}`);
  const liveAlert = (kind: string) =>
    central.store!.alerts.list({ state: 'live' }).find((a) => a.kind === kind && a.lane === 'L0');

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    central = new Central({
      config: config(dir),
      logger: pino({ level: 'warn' }, sink),
      parts: serviceParts(),
    });
    await central.start();
    const users = central.broker!.users;
    await users.add('pi-1', { role: 'agent', site: 's1', agent: 'pi-1' }, PASSWORD);
    await users.add('acme', { role: 'supplier', supplier: 'acme' }, PASSWORD);
    await users.add('crunchy', { role: 'supplier', supplier: 'crunchy' }, PASSWORD);
    await users.add('ops', { role: 'operator', sites: ['s1'] }, PASSWORD);
    await users.add('tech', { role: 'technician', sites: ['s1'] }, PASSWORD);
    await users.add('admin', { role: 'admin' }, PASSWORD);
    for (const name of ['acme', 'crunchy', 'ops', 'tech', 'admin']) {
      const r = await fetch(`http://127.0.0.1:${central.httpPort}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, password: PASSWORD }),
      });
      tokens[name] = ((await r.json()) as { token: string }).token;
    }
    // Readers: the operator on its site's observation topics; each supplier on its own lanes'
    // observation topics (refused or silent) and on everything at once.
    const subscribe = async (user: string, key: string, filter: string) => {
      const c = await mqtt.connectAsync(url(), { username: user, password: PASSWORD, reconnectPeriod: 0 });
      c.on('message', (topic) => {
        if (topic.endsWith('/observation')) heard[key]!.push(topic);
      });
      clients.push(c);
      // A filter that can match nothing the user may read is refused (SUBACK 0x80).
      await c.subscribeAsync(filter, { qos: 1 }).catch(() => refused.push(key));
    };
    await subscribe('ops', 'ops', 'shelfsense/v1/s1/+/+/observation');
    await subscribe('acme', 'acme', 'shelfsense/v1/s1/a/L0/observation');
    await subscribe('crunchy', 'crunchy', 'shelfsense/v1/+/+/+/observation');
    await subscribe('acme', 'acmeWide', 'shelfsense/v1/#');
    agent = await mqtt.connectAsync(url(), {
      username: 'pi-1',
      password: PASSWORD,
      clientId: clientIds.agent('s1', 'pi-1'),
      reconnectPeriod: 0,
    });
    agent.on('message', (topic, p) => {
      if (topic === topics.laneSettings('s1', 'pi-1')) settings.push(JSON.parse(p.toString()));
    });
    await agent.subscribeAsync(topics.laneSettings('s1', 'pi-1'), { qos: 1 });
    clients.push(agent);
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a foreign object once, opens its alert, and clears it with the cleared record', async () => {
    const open = observation({ kind: 'foreign-object', observation: 'fo-1', grams: 212, items: 0.6 });
    await publish(open);
    await publish(open); // redelivered: the same seq
    await waitFor(() => liveAlert('foreign-object'), 5_000, { what: 'the foreign-object alert' });
    expect(liveAlert('foreign-object')?.message).toContain('212 g');
    const lane = await api('/api/lanes/s1/a/L0/observations', 'ops');
    expect(lane.status).toBe(200);
    expect(lane.body).toHaveLength(1);
    expect(lane.body[0]).toMatchObject({ kind: 'foreign-object', state: 'open', grams: 212, items: 0.6 });
    const live = await api('/api/observations?state=live', 'tech');
    expect(live.body.map((o: { observation: string }) => o.observation)).toEqual(['fo-1']);

    await publish(observation({ kind: 'foreign-object', observation: 'fo-1', state: 'cleared', grams: 0 }));
    await waitFor(() => !liveAlert('foreign-object'), 5_000, { what: 'the alert cleared' });
    expect(stored()).toEqual(['L0:foreign-object:open', 'L0:foreign-object:cleared']);
    expect((await api('/api/observations?state=live', 'ops')).body).toEqual([]);
  });

  it('a hand opens no alert; another lane’s item does, naming the lane', async () => {
    await publish(observation({ kind: 'hand', observation: 'h-1', grams: 800 }));
    await publish(observation({ kind: 'misplaced-item', observation: 'm-1', grams: 120, otherLane: 'L1' }));
    await waitFor(() => liveAlert('misplaced-item'), 5_000, { what: 'the misplaced-item alert' });
    expect(liveAlert('misplaced-item')?.message).toContain('lane L1');
    expect(central.store!.alerts.list({ state: 'live' }).map((a) => a.kind)).not.toContain('hand');
  });

  it('refuses bad payloads with a logged reason and goes on ingesting', async () => {
    const before = central.ingest!.counters.invalid;
    await agent.publishAsync(
      topics.observation('s1', 'a', 'L0'),
      JSON.stringify({ ...observation({ kind: 'tamper' }), kind: 'ghost' }),
      { qos: 1 },
    );
    await agent.publishAsync(topics.observation('s1', 'a', 'L0'), 'not json', { qos: 1 });
    await publish(observation({ kind: 'tamper', observation: 't-1', cause: 'cell', grams: 430 }));
    await waitFor(() => liveAlert('tamper'), 5_000, { what: 'the tamper alert after the bad ones' });
    expect(central.ingest!.counters.invalid).toBe(before + 2);
    const warned = logs.find(
      (l) => l.msg === 'ignored an invalid message' && l.topic?.endsWith('/observation'),
    );
    expect(warned?.err).toMatch(/kind/);
  });

  it('suppliers never read observations: not over MQTT, however they subscribe, nor over HTTP', async () => {
    await waitFor(() => heard.ops!.length >= 6, 5_000, { what: 'the operator’s observations' });
    expect(refused.sort()).toEqual(['acme', 'crunchy']);
    expect(heard.acme).toEqual([]);
    expect(heard.crunchy).toEqual([]);
    expect(heard.acmeWide).toEqual([]);
    const lane = await api('/api/lanes/s1/a/L0/observations', 'acme');
    expect(lane.status).toBe(403);
    expect((await api('/api/observations', 'acme')).body).toEqual([]);
    // A lane the supplier does not own is not even there.
    expect((await api('/api/lanes/s1/a/L1/observations', 'acme')).status).toBe(404);
  });

  it('answers bad query parameters with 400 naming the field', async () => {
    const r = await api('/api/observations?kind=ghost&limit=0', 'ops');
    expect(r.status).toBe(400);
    const paths = r.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['kind.0', 'limit']));
    expect((await api('/api/lanes/s1/a/L0/observations?state=sometimes', 'ops')).status).toBe(400);
  });

  it('a pick while the store is closed (its hours, in its time zone) is tamper; one while open is not', async () => {
    const pick = (ts: number) =>
      agent.publishAsync(
        topics.event('s1', 'a', 'L1'),
        JSON.stringify(event(++seq, 'pick', -1, 7, ts, { sku: 'chips' })),
        { qos: 1 },
      );
    await pick(OPEN_TS + 60_000);
    await pick(CLOSED_TS);
    const tamper = await waitFor(
      () => central.store!.alerts.list({ state: 'live', kind: 'tamper' }).find((a) => a.lane === 'L1'),
      5_000,
      { what: 'the closed-store tamper alert' },
    );
    expect(tamper.message).toBe(
      'the count changed by -1 while the store was closed (sun 03:12 Europe/Berlin)',
    );
    expect(central.store!.alerts.list({ kind: 'tamper' }).filter((a) => a.lane === 'L1')).toHaveLength(1);
  });

  it('a technician accepts a unit-weight proposal: the SKU’s weight changes and reaches the agent', async () => {
    const proposal = { unitWeightG: 355.2, confidence: 0.93, steps: 12, wrong: true };
    await publish(observation({ kind: 'unit-weight', observation: 'uw-1', grams: 355.2, proposal }));
    await waitFor(() => liveAlert('unit-weight'), 5_000, { what: 'the unit-weight alert' });
    const view = await api('/api/lanes/s1/a/L0/unit-weight', 'tech');
    expect(view.body).toMatchObject({ sku: 'cola', unitWeightG: 350, proposal: { proposal } });
    const id = view.body.proposal.id as string;
    const accept = (user: string, body: unknown) =>
      api('/api/lanes/s1/a/L0/unit-weight/accept', user, { method: 'POST', body: JSON.stringify(body) });

    expect((await accept('ops', { observation: id })).status).toBe(403);
    expect((await accept('acme', { observation: id })).status).toBe(403);
    const bad = await accept('tech', { observation: id, unitWeightG: -3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('unitWeightG');
    expect((await accept('tech', { observation: 'pi-1:99999' })).status).toBe(404);

    const ok = await accept('tech', { observation: id });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      sku: 'cola',
      before: 350,
      unitWeightG: 355.2,
      proposal: { acceptedBy: 'tech' },
    });
    await waitFor(
      () => settings.at(-1)?.shelves[0]?.lanes.find((l) => l.lane === 'L0')?.unitWeightG === 355.2,
      5_000,
      { what: 'the new lane settings at the agent' },
    );
    expect((await accept('tech', { observation: id })).status).toBe(409);
    const audit = central.store!.audit.list({}).find((e) => e.action === 'unit-weight.accepted');
    expect(audit).toMatchObject({ actor: 'tech', site: 's1' });

    // The agent's steps now agree with the weight: it clears the proposal, and the alert goes.
    await publish(observation({ kind: 'unit-weight', observation: 'uw-1', state: 'cleared', grams: 355.2 }));
    await waitFor(() => !liveAlert('unit-weight'), 5_000, { what: 'the unit-weight alert cleared' });
    expect((await api('/api/lanes/s1/a/L0/unit-weight', 'tech')).body.proposal).toBeNull();
  });

  it('opening hours are edited over HTTP, checked naming the field, and taken up live', async () => {
    const put = (body: unknown) =>
      api('/api/catalogue/sites/s1', 'admin', { method: 'PUT', body: JSON.stringify(body) });
    const revision = (await api('/api/catalogue', 'admin')).body.sites[0].revision as number;
    expect((await api('/api/catalogue', 'admin')).body.sites[0].openingHours.timezone).toBe('Europe/Berlin');
    const bad = await put({
      revision,
      openingHours: { timezone: 'Mars/Olympus', open: [{ days: ['mon'], from: '07:00', to: '21:00' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['openingHours.timezone']);

    // Always open from now on: a Sunday-night pick is no tamper any more.
    const tamper = central
      .store!.alerts.list({ state: 'live', kind: 'tamper' })
      .find((a) => a.lane === 'L1')!;
    expect(
      (await api(`/api/alerts/${tamper.id}/acknowledge`, 'ops', { method: 'POST', body: '{}' })).status,
    ).toBe(200);
    expect((await put({ revision, openingHours: null })).status).toBe(200);
    await waitFor(() => central.map.lane('s1', 'a', 'L1') && central.catalogueVersion === 3, 5_000, {
      what: 'the new catalogue taken up',
    });
    expect((await api('/api/catalogue', 'admin')).body.sites[0].openingHours).toBeNull();
    const before = central.ingest!.counters.committed;
    await agent.publishAsync(
      topics.event('s1', 'a', 'L1'),
      JSON.stringify(event(++seq, 'pick', -1, 6, CLOSED_TS + 60_000, { sku: 'chips' })),
      { qos: 1 },
    );
    await waitFor(() => central.ingest!.counters.committed > before, 5_000, { what: 'the pick committed' });
    expect(central.store!.alerts.get(tamper.id)?.state).toBe('acknowledged');
    expect(
      central.store!.alerts.list({ state: 'open', kind: 'tamper' }).filter((a) => a.lane === 'L1'),
    ).toEqual([]);
  });
});
