/**
 * Environment overrides and secrets with the real processes (docs/configuration.md): a central
 * started with SHELFSENSE_CENTRAL_HTTP__PORT listens there, and signs a supplier's webhook with
 * the secret from a `_FILE` (or from secrets.yaml through `!secret`), never logging it; an agent
 * given its broker password by SHELFSENSE_AGENT_BROKER__PASSWORD_FILE logs in with it; a bad
 * variable or a missing secret stops either with exit 2 and an error naming it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhook } from '@shelfsense/central/webhooks';
import { topics } from '@shelfsense/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../../helpers/agent.js';
import { addUser, WebhookReceiver } from '../../helpers/central.js';
import { type CliProcess, killAll, runCli, shelfsense, spawnCli } from '../../helpers/proc.js';

const WEBHOOK_SECRET = 'acme-secret-from-a-file-7d3f9a1c';
const PLACEHOLDER = 'placeholder-not-the-secret-0000';
const ADMIN_PASSWORD = 'admin-password-123';
const AGENT_PASSWORD = 'pi-password-from-a-file-5521';

let dir: string;
const receiver = new WebhookReceiver();
let hookUrl: string;

beforeAll(async () => {
  hookUrl = await receiver.start();
  return () => receiver.stop();
});
afterEach(() => killAll());

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A port nothing listens on right now, for the override to name. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function centralYaml(secret: string): string {
  return [
    `dataDir: ${join(dir, 'data')}`,
    'http: { host: 127.0.0.1, port: 0 }',
    'mqtt: { host: 127.0.0.1, port: 0, websocket: { enabled: false } }',
    'integrations: { nodeRed: { enabled: false } }',
    'suppliers: [{ id: acme }]',
    'skus: [{ id: cola, unitWeightG: 350, supplier: acme }]',
    'sites:',
    '  - id: store-1',
    '    shelves: [{ id: a, serial: SN-0001, agent: pi-1, lanes: [{ id: L0, channels: [0], sku: cola }] }]',
    'replenishment:',
    '  webhooks:',
    `    suppliers: [{ supplier: acme, url: "${hookUrl}", secret: ${secret} }]`,
    'log: { level: trace }',
    '',
  ].join('\n');
}

async function startCentral(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const config = write('central.yaml', yaml);
  addUser(join(dir, 'data'), 'admin', ['--role', 'admin'], ADMIN_PASSWORD);
  const proc = shelfsense(['central', '--config', config], { env });
  const ready = await proc.waitForJson<{ ready: boolean; http: number; mqtt: number }>(
    (o) => o.ready === true,
    30_000,
  );
  return { proc, ...ready };
}

/** Sends the supplier's test event and returns what the receiver got. */
async function testEvent(http: number) {
  const base = `http://127.0.0.1:${http}`;
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const before = receiver.received.length;
  const r = await fetch(`${base}/api/catalogue/suppliers/acme/webhook/test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: '{}',
  });
  expect(r.status).toBe(200);
  expect(receiver.received.length).toBe(before + 1);
  return receiver.received[before] as (typeof receiver.received)[number];
}

async function stopped(proc: CliProcess): Promise<string> {
  await proc.kill('SIGTERM', 10_000);
  return `${proc.lines.join('\n')}\n${proc.stderr()}`;
}

describe('config from the environment, with the real processes', () => {
  it('central listens on the HTTP port from SHELFSENSE_CENTRAL_HTTP__PORT and signs webhooks with the secret from a _FILE', async () => {
    dir = mkdtempSync(join(tmpdir(), 'config-env-cli-'));
    const port = await freePort();
    const central = await startCentral(centralYaml(`"${PLACEHOLDER}"`), {
      SHELFSENSE_CENTRAL_HTTP__PORT: String(port),
      SHELFSENSE_CENTRAL_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__SECRET_FILE: write(
        'acme-webhook-secret',
        `${WEBHOOK_SECRET}\n`,
      ),
    });
    expect(central.http).toBe(port);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const hook = await testEvent(port);
    expect(verifyWebhook(WEBHOOK_SECRET, hook.headers, hook.body, 60_000).ok).toBe(true);
    expect(verifyWebhook(PLACEHOLDER, hook.headers, hook.body, 60_000).ok).toBe(false);

    // Logged at trace level from start to stop, the secret appears nowhere.
    expect(await stopped(central.proc)).not.toContain(WEBHOOK_SECRET);
  });

  it('central takes `!secret` from secrets.yaml beside its config', async () => {
    dir = mkdtempSync(join(tmpdir(), 'config-env-cli-'));
    write('secrets.yaml', `acme_webhook: "${WEBHOOK_SECRET}"\n`);
    const central = await startCentral(centralYaml('!secret acme_webhook'));
    const hook = await testEvent(central.http);
    expect(verifyWebhook(WEBHOOK_SECRET, hook.headers, hook.body, 60_000).ok).toBe(true);
    expect(await stopped(central.proc)).not.toContain(WEBHOOK_SECRET);
  });

  it('an agent logs in to the broker with the password from SHELFSENSE_AGENT_BROKER__PASSWORD_FILE', async () => {
    dir = mkdtempSync(join(tmpdir(), 'config-env-cli-'));
    const central = await startCentral(centralYaml(`"${PLACEHOLDER}"`));
    addUser(join(dir, 'data'), 'pi-1', ['--role', 'agent', '--site', 'store-1'], AGENT_PASSWORD);
    const url = `mqtt://127.0.0.1:${central.mqtt}`;
    const status = await collect(url, [topics.status('store-1', 'pi-1')], {
      username: 'admin',
      password: ADMIN_PASSWORD,
    });
    try {
      const config = write(
        'agent.yaml',
        [
          'agent: { id: pi-1, site: store-1 }',
          'sources: [{ url: "tcp://127.0.0.1:1" }]',
          `broker: { url: "${url}", username: pi-1, reconnectMs: 100 }`,
          `stateDir: ${join(dir, 'agent-state')}`,
          'log: { level: trace }',
          '',
        ].join('\n'),
      );
      const agent = spawnCli('agent/dist/shelfsense-agent.cjs', ['--config', config], {
        env: {
          SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: write('pi-1-password', `${AGENT_PASSWORD}\n`),
          // And a plain override: the file has no metrics section.
          SHELFSENSE_AGENT_METRICS__PORT: '0',
        },
      });
      const ready = await agent.waitForJson<{ ready: boolean; metricsPort: number | null }>(
        (o) => o.ready === true,
        20_000,
      );
      expect(ready.metricsPort).toBeGreaterThan(0);
      await expect
        .poll(() => status.messages.map((m) => m.payload.state), { timeout: 10_000 })
        .toContain('online');
      expect(await stopped(agent)).not.toContain(AGENT_PASSWORD);
    } finally {
      await status.close();
      await central.proc.kill('SIGTERM', 10_000);
    }
  });

  it.each([
    [
      'central: a variable naming no field',
      ['central'],
      { SHELFSENSE_CENTRAL_HTTP__PROT: '8081' },
      /SHELFSENSE_CENTRAL_HTTP__PROT: names no field of http \(http has host, port/,
    ],
    [
      'central: a value the field does not take',
      ['central'],
      { SHELFSENSE_CENTRAL_HTTP__PORT: 'eighty' },
      /http\.port \(SHELFSENSE_CENTRAL_HTTP__PORT\): .*number/,
    ],
    [
      'central: a _FILE that is missing',
      ['central'],
      { SHELFSENSE_CENTRAL_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__SECRET_FILE: '/nonexistent/acme' },
      /SECRET_FILE: replenishment\.webhooks\.suppliers\[0\]\.secret: cannot read \/nonexistent\/acme: it does not exist/,
    ],
    [
      'agent: a _FILE that is missing',
      ['agent'],
      { SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: '/nonexistent/pw' },
      /SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: broker\.password: cannot read \/nonexistent\/pw/,
    ],
  ])('%s stops it with exit 2, naming the variable', async (_what, [command], env, message) => {
    dir = mkdtempSync(join(tmpdir(), 'config-env-cli-'));
    const config =
      command === 'central'
        ? write('central.yaml', centralYaml(`"${PLACEHOLDER}"`))
        : write(
            'agent.yaml',
            'agent: { id: pi-1, site: s }\nsources: [{ path: /dev/null }]\nbroker: { url: "mqtt://127.0.0.1:1" }\n',
          );
    const r = await runCliEnv(['cli/dist/main.js', command as string, '--config', config], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a `!secret` with no secrets.yaml, or an unknown name, stops central with exit 2 naming secret and file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'config-env-cli-'));
    const config = write('central.yaml', centralYaml('!secret acme_webhook'));
    const missing = await runCliEnv(['cli/dist/main.js', 'central', '--config', config], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`!secret acme_webhook: cannot read ${join(dir, 'secrets.yaml')}`);
    write('secrets.yaml', 'acme: "x"\n');
    const unknown = await runCliEnv(['cli/dist/main.js', 'central', '--config', config], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      `!secret acme_webhook: ${join(dir, 'secrets.yaml')} has no "acme_webhook"`,
    );
  });
});

/** runCli with extra environment variables. */
async function runCliEnv(argv: string[], env: NodeJS.ProcessEnv) {
  const [script, ...args] = argv as [string, ...string[]];
  if (Object.keys(env).length === 0) return runCli(script, args);
  const p = spawnCli(script, args, { env });
  const exit = await p.exited;
  return { ...exit, stdout: p.lines.join('\n'), stderr: p.stderr() };
}
