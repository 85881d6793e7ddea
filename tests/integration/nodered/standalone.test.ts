/**
 * node-red-contrib-shelfsense installed the way an integrator installs it: `npm pack` of the
 * package, `npm install <tgz>` into a fresh Node-RED user dir (offline, from the npm cache), then
 * the stock Node-RED 4 and Node-RED 5 each started as its own process against a real central
 * process. The package's example flows are deployed through the admin API with the config node's
 * token filled in, and must work against the central: a lane level arrives as the central's API
 * shows it, a new order goes to the ERP and is acknowledged in the central, a supplier sees only
 * its own lanes, the token never lands in the flow file, and bad config shows as a node status.
 * Beside them, config nodes that log in with a password or read a broker they name, and the
 * nodes carrying on past a token's expiry and a kill -9 of central.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LevelPayload, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { addUser, type CentralProcess, startCentral } from '../../helpers/central.js';
import { type CliProcess, killAll, ROOT, spawnCli } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';
import { ErpTap } from './erp.js';

const PKG = 'node-red-contrib-shelfsense';
const PASSWORD = 'correct horse battery';
const RUNTIMES = [
  { label: 'Node-RED 4', redJs: join(ROOT, 'node_modules/node-red-4/red.js'), lane: 'L0' },
  { label: 'Node-RED 5', redJs: join(ROOT, 'node_modules/node-red/red.js'), lane: 'L1' },
] as const;

function example(name: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(ROOT, PKG, 'examples', `${name}.json`), 'utf8'));
}

/**
 * npm as the Node running the tests has it, offline: everything comes from the npm cache. Without
 * npm's own variables, which an `npm test` run would hand down and which point npm at this
 * repository's workspaces.
 */
function npm(args: string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-nr-standalone-'));
let tgz = '';
let central: CentralProcess;
let agent: MqttClient;
let seq = 0;
let acmeToken = '';
/**
 * Short-lived tokens, so the test sees the nodes keep their session past a token's expiry; long
 * enough that a busy machine still refreshes at half-life before the end.
 */
const TOKEN_TTL_MS = 8_000;

/** A GET of the central's API as the supplier, with a token of its own. */
async function asAcme<T>(path: string): Promise<T> {
  const r = await central.api(path, await central.login('acme', PASSWORD));
  return (await r.json()) as T;
}

async function publishLevel(lane: string, units: number): Promise<void> {
  seq++;
  const p: LevelPayload = {
    agent: 'pi-1',
    serial: 'SN1',
    sku: lane === 'L2' ? 'gum' : 'cola',
    units,
    grams: units * 350,
    fill: units / 20,
    stable: true,
    confidence: 0.98,
    state: 'ok',
    ts: Date.now(),
    seq,
    frameSeq: seq,
  };
  await agent.publishAsync(topics.level('store-1', 'shelf-1', lane), JSON.stringify(p), {
    qos: 1,
    retain: true,
  });
}

function connectAgent(): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqtt}`, {
    clientId: 'pi-1',
    username: 'pi-1',
    password: PASSWORD,
    reconnectPeriod: 0,
  });
}

beforeAll(async () => {
  npm(['pack', join(ROOT, PKG), '--pack-destination', dir], ROOT);
  tgz = join(dir, `${PKG}-${JSON.parse(readFileSync(join(ROOT, PKG, 'package.json'), 'utf8')).version}.tgz`);

  const dataDir = join(dir, 'central');
  addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], PASSWORD);
  addUser(dataDir, 'acme', ['--role', 'supplier', '--supplier', 'acme'], PASSWORD);
  central = await startCentral(
    {
      dataDir,
      log: { level: 'warn' },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      auth: { scrypt: { cost: 1024 }, tokenTtlMs: TOKEN_TTL_MS },
      integrations: { nodeRed: { enabled: false } },
      suppliers: [{ id: 'acme' }, { id: 'globex' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'gum', unitWeightG: 60, supplier: 'globex' },
      ],
      sites: [
        {
          id: 'store-1',
          shelves: [
            {
              id: 'shelf-1',
              serial: 'SN1',
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola', capacity: 20 },
                { id: 'L1', channels: [1], sku: 'cola', capacity: 20 },
                { id: 'L2', channels: [2], sku: 'gum', capacity: 40 },
              ],
            },
          ],
        },
      ],
      timing: { offlineAfterMs: 600_000 },
      replenishment: { defaults: { reorderPoint: 4, debounceMs: 200, hysteresis: 1 }, tickMs: 100 },
    },
    dir,
  );
  agent = await connectAgent();
  for (const lane of ['L0', 'L1', 'L2']) await publishLevel(lane, 15);
}, 60_000);

afterAll(async () => {
  await agent?.endAsync();
  await central?.stop();
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(RUNTIMES)('node-red-contrib-shelfsense in $label', ({ label, redJs, lane }) => {
  const userDir = join(dir, label.replace(/\W+/g, '-'));
  const erp = new ErpTap();
  let red: CliProcess;
  let admin = '';

  const adminApi = (path: string, init: RequestInit = {}) =>
    fetch(`${admin}${path}`, {
      ...init,
      headers: { accept: 'application/json', 'content-type': 'application/json', ...(init.headers ?? {}) },
    });

  /** The examples as shipped, one shared config node with the URL and token filled in. */
  function exampleFlows(): Record<string, unknown>[] {
    const flows = [...example('orders-to-erp'), ...example('lane-levels')];
    const config = flows.find((n) => n.type === 'shelfsense-config')!;
    Object.assign(config, { url: `http://127.0.0.1:${central.http}`, credentials: { token: acmeToken } });
    return flows.filter((n) => n.type !== 'shelfsense-config' || n === config);
  }

  /** A tab the test adds: its nodes post what they get (levels, statuses) to the receiver. */
  function tapTab(): Record<string, unknown>[] {
    const z = 'tap-tab';
    const post = (id: string, path: string) => ({
      id,
      z,
      type: 'http request',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${erp.url}${path}`,
      x: 500,
      y: 100,
      wires: [[]],
    });
    return [
      { id: z, type: 'tab', label: 'test taps' },
      // The same user, logging in with its password instead of a token.
      {
        id: 'pw-server',
        type: 'shelfsense-config',
        url: `http://127.0.0.1:${central.http}`,
        credentials: { username: 'acme', password: PASSWORD },
      },
      {
        id: 'tap-levels',
        z,
        type: 'shelfsense-level',
        server: 'pw-server',
        site: 'store-1',
        x: 100,
        y: 100,
        wires: [['tap-levels-post']],
      },
      post('tap-levels-post', '/tap/levels'),
      // Live data from a broker named in the config (here central's own MQTT over TCP), with its
      // own user and password; HTTP still takes the token.
      {
        id: 'broker-server',
        type: 'shelfsense-config',
        url: `http://127.0.0.1:${central.http}`,
        mqttUrl: `mqtt://127.0.0.1:${central.mqtt}`,
        credentials: { token: acmeToken, mqttUsername: 'acme', mqttPassword: PASSWORD },
      },
      {
        id: 'tap-broker-levels',
        z,
        type: 'shelfsense-level',
        server: 'broker-server',
        x: 100,
        y: 140,
        wires: [['tap-broker-levels-post']],
      },
      post('tap-broker-levels-post', '/tap/broker-levels'),
      // Bad config: a server without a URL, and one whose token central refuses.
      { id: 'no-url', type: 'shelfsense-config', url: '', credentials: { token: acmeToken } },
      {
        id: 'bad-token',
        type: 'shelfsense-config',
        url: `http://127.0.0.1:${central.http}`,
        credentials: { token: `${acmeToken.slice(0, -4)}AAAA` },
      },
      {
        id: 'bad-password',
        type: 'shelfsense-config',
        url: `http://127.0.0.1:${central.http}`,
        credentials: { username: 'acme', password: 'not the password' },
      },
      { id: 'lv-no-url', z, type: 'shelfsense-level', server: 'no-url', x: 100, y: 200, wires: [[]] },
      { id: 'lv-no-server', z, type: 'shelfsense-level', x: 100, y: 230, wires: [[]] },
      {
        id: 'up-bad-password',
        z,
        type: 'shelfsense-order-update',
        server: 'bad-password',
        x: 300,
        y: 200,
        wires: [[]],
      },
      {
        id: 'ev-bad-token',
        z,
        type: 'shelfsense-order-event',
        server: 'bad-token',
        x: 100,
        y: 260,
        wires: [[]],
      },
      {
        id: 'tap-status',
        z,
        type: 'status',
        scope: ['lv-no-url', 'lv-no-server', 'ev-bad-token', 'up-bad-password'],
        x: 100,
        y: 320,
        wires: [['tap-status-body']],
      },
      {
        id: 'tap-status-body',
        z,
        type: 'function',
        func: 'msg.payload = msg.status;\nreturn msg;',
        outputs: 1,
        x: 300,
        y: 320,
        wires: [['tap-status-post']],
      },
      post('tap-status-post', '/tap/status'),
    ];
  }

  beforeAll(async () => {
    await erp.start();
    mkdirSync(userDir, { recursive: true });
    npm(['install', '--prefix', userDir, tgz], dir);
    const settings = join(userDir, 'settings.js');
    writeFileSync(
      settings,
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        flowFile: 'flows.json',
        // A fixed key, so Node-RED neither invents one nor asks about it.
        credentialSecret: 'standalone-test-credential-secret',
        logging: { console: { level: 'info', metrics: false, audit: false } },
        telemetry: { enabled: false },
        diagnostics: { enabled: false },
        editorTheme: { tours: false },
      })};\n`,
    );
    red = spawnCli(redJs, ['--userDir', userDir, '--port', '0', '--settings', settings], {
      env: { ERP_URL: erp.url },
    });
    const line = await red.waitForLine(/Server now running at http:\/\/127\.0\.0\.1:\d+/, 30_000);
    admin = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    await waitFor(async () => (await adminApi('/flows')).status === 200, 10_000, { what: 'the admin API' });
  }, 90_000);

  afterAll(async () => {
    await red?.kill('SIGTERM', 10_000);
    await erp.stop();
  });

  it('[NR-STANDALONE-INSTALL] lists the nodes and the examples', async () => {
    const nodes = (await (await adminApi('/nodes')).json()) as { module: string; types: string[] }[];
    const types = nodes.filter((n) => n.module === PKG).flatMap((n) => n.types);
    expect(types.sort()).toEqual([
      'shelfsense-config',
      'shelfsense-level',
      'shelfsense-order-event',
      'shelfsense-order-update',
    ]);
    const modules = (await (await adminApi('/library/examples/flows/')).json()) as unknown;
    expect(JSON.stringify(modules)).toContain(PKG);
    const list = (await (await adminApi(`/library/examples/flows/${PKG}`)).json()) as unknown;
    expect(JSON.stringify(list)).toContain('orders-to-erp');
    expect(JSON.stringify(list)).toContain('lane-levels');
    const flow = await (await adminApi(`/library/examples/flows/${PKG}/orders-to-erp`)).json();
    expect(flow).toEqual(example('orders-to-erp'));
  });

  it('[NR-STANDALONE-FLOW] the examples work against a real central; the token stays out of the flow', async () => {
    onTestFailed(() => {
      process.stderr.write(`${label} output:\n${red.lines.join('\n')}\n${red.stderr()}\n`);
    });
    acmeToken = await central.login('acme', PASSWORD);
    const expiresAt = (
      JSON.parse(Buffer.from(acmeToken.split('.')[1]!, 'base64url').toString()) as { exp: number }
    ).exp;
    const deploy = await adminApi('/flows', {
      method: 'POST',
      headers: { 'node-red-deployment-type': 'full' },
      body: JSON.stringify([...exampleFlows(), ...tapTab()]),
    });
    expect(deploy.status).toBe(204);

    // Bad config: a clear red status on each node, and Node-RED runs on.
    const redStatus = (id: string, text: RegExp) =>
      erp
        .on('/tap/status')
        .map((h) => h.body as { fill: string; text: string; source: { id: string } })
        .some((b) => b.source.id === id && b.fill === 'red' && text.test(b.text));
    const expectations: [string, RegExp][] = [
      ['lv-no-url', /^no central URL$/],
      ['lv-no-server', /^no Shelfsense server: choose one in the node$/],
      ['ev-bad-token', /^central refused the credentials: token rejected/],
      ['up-bad-password', /^central refused the credentials: wrong user name or password$/],
    ];
    for (const [id, text] of expectations) {
      await waitFor(() => redStatus(id, text), 10_000, { what: `the red status ${text} of ${id}` });
    }

    // A lane level reaches the flow as the central's API shows it (the supplier's lanes only).
    await publishLevel('L2', 33);
    await publishLevel(lane, 9);
    const level = await waitFor(
      () =>
        erp
          .on('/tap/levels')
          .map((h) => h.body as Record<string, unknown>)
          .find((b) => b.lane === lane && b.units === 9),
      10_000,
      { what: `level 9 of ${lane} at the tap` },
    );
    const api = await waitFor(
      async () => {
        const l = await asAcme<{ units: number }>(`/api/lanes/store-1/shelf-1/${lane}`);
        return l.units === 9 ? l : null;
      },
      10_000,
      { what: 'the API level' },
    );
    expect(level).toMatchObject({
      site: 'store-1',
      shelf: 'shelf-1',
      lane,
      sku: 'cola',
      supplier: 'acme',
      units: api.units,
      stable: true,
    });
    expect(erp.on('/tap/levels').filter((h) => (h.body as { lane: string }).lane === 'L2')).toEqual([]);
    await waitFor(
      () =>
        erp
          .on('/tap/broker-levels')
          .some(
            (h) =>
              (h.body as { lane: string; units: number }).lane === lane &&
              (h.body as { units: number }).units === 9,
          ),
      10_000,
      { what: `level 9 of ${lane} from the named broker` },
    );

    // A level below the reorder point raises an order: the flow sends it to the ERP and
    // acknowledges it when the ERP answers 2xx.
    await publishLevel(lane, 2);
    const po = await waitFor(
      () =>
        erp
          .on('/purchase-orders')
          .find((h) => (h.body as { deliverTo: { lane: string } }).deliverTo.lane === lane),
      15_000,
      { what: 'the purchase order at the ERP' },
    );
    const orderId = (po.body as { reference: string }).reference;
    expect(po.headers['idempotency-key']).toBe(`${orderId}:open`);
    expect(po.body).toMatchObject({
      supplier: 'acme',
      sku: 'cola',
      deliverTo: { site: 'store-1', shelf: 'shelf-1' },
    });
    await waitFor(
      async () => (await asAcme<{ state: string }>(`/api/orders/${orderId}`)).state === 'acknowledged',
      10_000,
      { what: 'the order acknowledged in the central' },
    );

    // Past the configured token's expiry the nodes still act: they refreshed it in time. The ERP
    // ships through the example's hook; a bad quantity is answered 409 with the field named.
    await waitFor(() => Date.now() > expiresAt + 100, TOKEN_TTL_MS * 2, { what: 'the token to expire' });
    expect((await central.api('/api/orders', acmeToken)).status).toBe(401);
    const shipped = await fetch(`${admin}/erp/shipped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId }),
    });
    const shippedBody = (await shipped.json()) as unknown;
    expect(shipped.status, JSON.stringify(shippedBody)).toBe(200);
    expect(shippedBody).toMatchObject({ id: orderId, state: 'shipped', changed: true });
    expect(await asAcme(`/api/orders/${orderId}`)).toMatchObject({ state: 'shipped' });
    const refused = await fetch(`${admin}/erp/shipped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId, shippedQuantity: 'lots' }),
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toMatch(/shippedQuantity/);

    // Credentials are Node-RED's encrypted credentials, never in the flow file.
    const flowFile = readFileSync(join(userDir, 'flows.json'), 'utf8');
    expect(flowFile).toContain('shelfsense-config');
    expect(flowFile).not.toContain(acmeToken.split('.')[2]!);
    expect(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')).not.toContain(acmeToken.split('.')[2]!);
    expect(red.child.exitCode).toBeNull();
  });

  it('[NR-STANDALONE-RECONNECT] a server logging in with a password comes back after kill -9 of central', async () => {
    await central.kill();
    await central.restart();
    await agent.endAsync();
    agent = await connectAgent();
    await publishLevel(lane, 11);
    await waitFor(
      () =>
        erp
          .on('/tap/levels')
          .some(
            (h) =>
              (h.body as { lane: string; units: number }).lane === lane &&
              (h.body as { units: number }).units === 11,
          ),
      20_000,
      { what: `level 11 of ${lane} after the restart` },
    );
  });
});
