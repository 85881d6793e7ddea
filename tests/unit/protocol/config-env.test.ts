/**
 * Environment overrides of config files (protocol/src/config/env.ts, docs/configuration.md):
 * `SHELFSENSE_<KIND>_<PATH>` with `__` between levels, JSON-typed values, `_FILE` for secrets, and
 * every bad variable refused with its name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAgentConfig } from '@shelfsense/agent';
import {
  AgentConfig,
  Catalogue,
  CentralConfig,
  ErrorCodes,
  isShelfError,
  loadConfigFile,
  parseConfigText,
  type ShelfError,
} from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const AGENT_YAML = `
agent: { id: pi-1, site: store-1 }
sources:
  - path: /dev/ttyUSB0
broker:
  url: mqtt://central:1883
  username: pi-1
`;

const CENTRAL_YAML = `
suppliers: [{ id: acme }]
skus: [{ id: cola, unitWeightG: 350, supplier: acme }]
replenishment:
  webhooks:
    suppliers:
      - supplier: acme
        url: https://erp.acme.example/hook
        secret: placeholder-secret-0000
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-env-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const agent = (env: Record<string, string>, yaml = AGENT_YAML) =>
  loadConfigFile(AgentConfig, file('agent.yaml', yaml), 'agent config', { env });
const central = (env: Record<string, string>, yaml = CENTRAL_YAML) =>
  loadConfigFile(CentralConfig, file('central.yaml', yaml), 'central config', { env });

function failure(fn: () => unknown): ShelfError {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('config env overrides: names and nesting', () => {
  it('sets a nested field; `__` separates levels, case and `_` within one do not matter', () => {
    const cfg = central({
      SHELFSENSE_CENTRAL_HTTP__PORT: '8081',
      SHELFSENSE_CENTRAL_MQTT__LIMITS__MAX_PACKET_BYTES: '65536',
      SHELFSENSE_CENTRAL_MQTT__LIMITS__SESSIONS__MAXPERUSER: '7',
      SHELFSENSE_CENTRAL_DATA_DIR: '/var/lib/shelfsense-central',
    });
    expect(cfg.http.port).toBe(8081);
    expect(cfg.mqtt.limits.maxPacketBytes).toBe(65536);
    expect(cfg.mqtt.limits.sessions.maxPerUser).toBe(7);
    expect(cfg.dataDir).toBe('/var/lib/shelfsense-central');
  });

  it('wins over the file, and leaves the file’s other fields as they are', () => {
    const cfg = agent({ SHELFSENSE_AGENT_BROKER__USERNAME: 'pi-9' });
    expect(cfg.broker).toMatchObject({ url: 'mqtt://central:1883', username: 'pi-9' });
    expect(cfg.agent).toEqual({ id: 'pi-1', site: 'store-1' });
  });

  it('makes the mappings on the way when the file has none', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_DELIVERY__TRIM_ON: 'broker',
      SHELFSENSE_AGENT_METRICS__PORT: '9100',
    });
    expect(cfg.delivery.trimOn).toBe('broker');
    expect(cfg.metrics.port).toBe(9100);
  });

  it('addresses list entries by index, and one past the end adds an entry', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_SOURCES__0__PATH: '/dev/ttyACM0',
      SHELFSENSE_AGENT_SOURCES__1__URL: 'tcp://bridge:4001',
      SHELFSENSE_AGENT_SOURCES__2__DISCOVER__GLOB: '/dev/serial/by-id/usb-FTDI_*',
    });
    expect(cfg.sources).toEqual([
      { path: '/dev/ttyACM0', baudRate: 115200 },
      { url: 'tcp://bridge:4001' },
      { discover: { glob: '/dev/serial/by-id/usb-FTDI_*' }, baudRate: 115200 },
    ]);
  });

  it('sets a whole list as JSON, before any variable naming one of its entries', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_BROKER__URL: '["mqtt://n1:1883","mqtt://n2:1883"]',
      SHELFSENSE_AGENT_BROKER__URL__1: 'mqtt://n3:1883',
    });
    expect(cfg.broker.url).toEqual(['mqtt://n1:1883', 'mqtt://n3:1883']);
  });

  it('reaches into a union by the fields of its options (a grant)', () => {
    const cfg = central({
      SHELFSENSE_CENTRAL_MQTT__ANONYMOUS: '{"role":"supplier","supplier":"acme"}',
    });
    expect(cfg.mqtt.anonymous).toEqual({ role: 'supplier', supplier: 'acme' });
  });

  it('the catalogue file takes SHELFSENSE_CATALOGUE_*', () => {
    const path = file('catalogue.yaml', CENTRAL_YAML);
    const cat = loadConfigFile(Catalogue, path, 'catalogue', {
      env: { SHELFSENSE_CATALOGUE_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__URL: 'https://erp.acme.example/v2' },
    });
    expect(cat.replenishment.webhooks.suppliers[0]?.url).toBe('https://erp.acme.example/v2');
  });

  it('ignores variables of other kinds, and applies none to a text unless asked', () => {
    expect(agent({ SHELFSENSE_CENTRAL_HTTP__PORT: 'x', SHELFSENSE_PASSWORD: 'p' }).broker.username).toBe(
      'pi-1',
    );
    process.env.SHELFSENSE_AGENT_BROKER__USERNAME = 'from-env';
    try {
      expect(parseConfigText(AgentConfig, AGENT_YAML, 'agent config').broker.username).toBe('pi-1');
      expect(
        loadConfigFile(AgentConfig, file('agent.yaml', AGENT_YAML), 'agent config').broker.username,
      ).toBe('from-env');
    } finally {
      delete process.env.SHELFSENSE_AGENT_BROKER__USERNAME;
    }
  });
});

describe('config env overrides: values', () => {
  it('is JSON when it parses as JSON and the field takes it', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_SIGNAL__STABLE_BAND_G: '2.5',
      SHELFSENSE_AGENT_BROKER__PROTOCOL: '5',
      SHELFSENSE_AGENT_SHELVES:
        '[{"serial":"SHELF-0001","calibration":[{"channel":0,"offset":1,"scale":2}]}]',
    });
    expect(cfg.signal.stableBandG).toBe(2.5);
    expect(cfg.broker.protocol).toBe(5);
    expect(cfg.shelves[0]?.calibration).toEqual([{ channel: 0, offset: 1, scale: 2 }]);
  });

  it('is the text as written when that is what the field takes', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_AGENT__SITE: '007', // not JSON
      SHELFSENSE_AGENT_AGENT__ID: '42', // JSON, but the id is text
      SHELFSENSE_AGENT_BROKER__PASSWORD: 'true', // JSON, but a password is text
      SHELFSENSE_AGENT_SIGNAL__STABLE_MS: '2s', // a duration as text
    });
    expect(cfg.agent).toEqual({ id: '42', site: '007' });
    expect(cfg.broker.password).toBe('true');
    expect(cfg.signal.stableMs).toBe(2000);
  });

  it('`_FILE` reads the value from a file, one trailing newline dropped, as text', () => {
    const cfg = agent({
      SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: file('mqtt-password', '12345678\n\n'),
      SHELFSENSE_AGENT_BROKER__USERNAME_FILE: file('mqtt-user', 'pi-7\r\n'),
    });
    expect(cfg.broker.password).toBe('12345678\n');
    expect(cfg.broker.username).toBe('pi-7');
  });

  it('`_FILE` gives a supplier’s webhook secret', () => {
    const secret = 'acme-secret-from-a-file-0123456789';
    const cfg = central({
      SHELFSENSE_CENTRAL_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__SECRET_FILE: file(
        'acme-secret',
        `${secret}\n`,
      ),
    });
    expect(cfg.replenishment.webhooks.suppliers[0]?.secret).toBe(secret);
  });

  it('a field whose own name ends in File is set directly', () => {
    const cfg = central({
      SHELFSENSE_CENTRAL_EXTERNAL_BROKER: '{"url":"mqtt://mosquitto:1883","username":"central"}',
      SHELFSENSE_CENTRAL_EXTERNAL_BROKER__PASSWORD_FILE: '/run/secrets/mqtt',
    });
    expect(cfg.externalBroker?.passwordFile).toBe('/run/secrets/mqtt');
  });
});

describe('config env overrides: bad input is refused, naming the variable', () => {
  it('a variable naming no field, at the top or below, lists the fields there are', () => {
    const top = failure(() => central({ SHELFSENSE_CENTRAL_HTTPS__PORT: '1' }));
    expect(top.code).toBe(ErrorCodes.INVALID);
    expect(top.message).toMatch(
      /central config .*central\.yaml: SHELFSENSE_CENTRAL_HTTPS__PORT: names no field/,
    );
    expect(top.issues[0]?.path).toBe('SHELFSENSE_CENTRAL_HTTPS__PORT');
    const below = failure(() => central({ SHELFSENSE_CENTRAL_HTTP__PROT: '1' }));
    expect(below.message).toContain(
      'SHELFSENSE_CENTRAL_HTTP__PROT: names no field of http (http has host, port',
    );
    const past = failure(() => central({ SHELFSENSE_CENTRAL_HTTP__PORT__X: '1' }));
    expect(past.message).toContain('SHELFSENSE_CENTRAL_HTTP__PORT__X: names no field of http.port');
    const empty = failure(() => agent({ SHELFSENSE_AGENT_BROKER____URL: 'mqtt://x:1' }));
    expect(empty.message).toContain('SHELFSENSE_AGENT_BROKER____URL: names no field of broker');
  });

  it('`_FILE` of a field that does not exist is an unknown field too', () => {
    const err = failure(() => agent({ SHELFSENSE_AGENT_BROKER__PASSWD_FILE: file('x', 'y') }));
    expect(err.message).toContain('SHELFSENSE_AGENT_BROKER__PASSWD_FILE: names no field of broker');
  });

  it('a value of the wrong type names the field and the variable', () => {
    const err = failure(() => central({ SHELFSENSE_CENTRAL_HTTP__PORT: 'eighty' }));
    expect(err.code).toBe(ErrorCodes.INVALID);
    expect(err.message).toMatch(/http\.port \(SHELFSENSE_CENTRAL_HTTP__PORT\): .*number/);
    expect(err.issues.map((i) => i.path)).toEqual(['http.port (SHELFSENSE_CENTRAL_HTTP__PORT)']);
    const range = failure(() => central({ SHELFSENSE_CENTRAL_HTTP__PORT: '70000' }));
    expect(range.message).toContain('http.port (SHELFSENSE_CENTRAL_HTTP__PORT)');
  });

  it('a whole mapping set from JSON is blamed for the errors inside it', () => {
    const err = failure(() => agent({ SHELFSENSE_AGENT_BROKER: '{"url":"http://x"}' }));
    expect(err.message).toContain('broker.url (SHELFSENSE_AGENT_BROKER)');
  });

  it('a missing `_FILE` file names the variable, the field and the file', () => {
    const missing = join(dir, 'no-such-secret');
    const err = failure(() => agent({ SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: missing }));
    expect(err.code).toBe(ErrorCodes.FILE);
    expect(err.message).toContain(
      `SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: broker.password: cannot read ${missing}: it does not exist`,
    );
  });

  it('a value and a `_FILE` for one field is refused', () => {
    const err = failure(() =>
      agent({
        SHELFSENSE_AGENT_BROKER__PASSWORD: 'a',
        SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: file('p', 'b'),
      }),
    );
    expect(err.message).toContain(
      'set either SHELFSENSE_AGENT_BROKER__PASSWORD or SHELFSENSE_AGENT_BROKER__PASSWORD_FILE',
    );
  });

  it('an index past the end of a list, or into what the file holds as a value, is refused', () => {
    const past = failure(() => agent({ SHELFSENSE_AGENT_SOURCES__2__PATH: '/dev/ttyUSB1' }));
    expect(past.message).toContain('SHELFSENSE_AGENT_SOURCES__2__PATH: sources: index 2 is past the end');
    const scalar = failure(() =>
      agent({ SHELFSENSE_AGENT_SIGNAL__NOISY_G: '3' }, `${AGENT_YAML}signal: 5\n`),
    );
    expect(scalar.message).toContain('SHELFSENSE_AGENT_SIGNAL__NOISY_G: signal: holds a value');
  });

  it('an error never quotes a value that came from a file', () => {
    const secret = 'short-secret';
    const err = failure(() =>
      central({
        SHELFSENSE_CENTRAL_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__SECRET_FILE: file('s', `${secret}\n`),
      }),
    );
    expect(err.message).toContain(
      'replenishment.webhooks.suppliers.0.secret (SHELFSENSE_CENTRAL_REPLENISHMENT__WEBHOOKS__SUPPLIERS__0__SECRET_FILE)',
    );
    expect(err.message).not.toContain(secret);
  });
});

describe('config env overrides: the agent’s quick start (flags, no file)', () => {
  const flags = { source: ['/dev/ttyUSB0'], broker: 'mqtt://central:1883', site: 'store-1' };

  function withEnv<T>(env: Record<string, string>, fn: () => T): T {
    Object.assign(process.env, env);
    try {
      return fn();
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  }

  it('takes the overrides, and a flag given wins over them', () => {
    const cfg = withEnv(
      {
        SHELFSENSE_AGENT_BROKER__KEEPALIVE_S: '10',
        SHELFSENSE_AGENT_BROKER__USERNAME: 'from-env',
        SHELFSENSE_AGENT_BROKER__PASSWORD_FILE: file('pw', 'from-a-file\n'),
      },
      () => resolveAgentConfig({ ...flags, username: 'from-flag' }),
    );
    expect(cfg.broker).toMatchObject({ keepaliveS: 10, username: 'from-flag', password: 'from-a-file' });
    expect(cfg.sources).toEqual([{ path: '/dev/ttyUSB0', baudRate: 115200 }]);
  });

  it('refuses a variable naming no field, and names it in a schema error', () => {
    expect(() =>
      withEnv({ SHELFSENSE_AGENT_BROKER__KEEPALIVE: '10' }, () => resolveAgentConfig(flags)),
    ).toThrow(/SHELFSENSE_AGENT_BROKER__KEEPALIVE: names no field of broker/);
    expect(() =>
      withEnv({ SHELFSENSE_AGENT_READ_BATCH_MS: '5000' }, () => resolveAgentConfig(flags)),
    ).toThrow(/readBatchMs \(SHELFSENSE_AGENT_READ_BATCH_MS\)/);
  });
});
