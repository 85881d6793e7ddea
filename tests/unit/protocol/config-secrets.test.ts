/**
 * `!secret NAME` in a config file (protocol/src/config/secrets.ts, docs/configuration.md): the
 * value comes from secrets.yaml beside the config; a missing file, name or value is refused with
 * an error naming the secret and the file, and never quoting a secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
sources: [{ path: /dev/ttyUSB0 }]
broker:
  url: mqtt://central:1883
  username: pi-1
  password: !secret mqtt_password
`;

const MQTT_PASSWORD = 'correct horse battery staple';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const loadAgent = (yaml = AGENT_YAML) =>
  loadConfigFile(AgentConfig, file('agent.yaml', yaml), 'agent config', { env: {} });

function failure(fn: () => unknown): ShelfError {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('config !secret', () => {
  it('takes the value from secrets.yaml beside the config', () => {
    file('secrets.yaml', `mqtt_password: "${MQTT_PASSWORD}"\nother: "x"\n`);
    expect(loadAgent().broker.password).toBe(MQTT_PASSWORD);
  });

  it('works in the central config and the catalogue: webhook secrets', () => {
    file('secrets.yaml', 'acme_webhook: "acme-webhook-0123456789abcdef"\n');
    const yaml = `
suppliers: [{ id: acme }]
replenishment:
  webhooks:
    suppliers:
      - { supplier: acme, url: "https://erp.acme.example/hook", secret: !secret acme_webhook }
`;
    const central = loadConfigFile(CentralConfig, file('central.yaml', yaml), 'central config', { env: {} });
    expect(central.replenishment.webhooks.suppliers[0]?.secret).toBe('acme-webhook-0123456789abcdef');
    const cat = loadConfigFile(Catalogue, file('catalogue.yaml', yaml), 'catalogue', { env: {} });
    expect(cat.replenishment.webhooks.suppliers[0]?.secret).toBe('acme-webhook-0123456789abcdef');
  });

  it('a config without !secret does not need secrets.yaml', () => {
    expect(loadAgent(AGENT_YAML.replace('!secret mqtt_password', 'inline')).broker.password).toBe('inline');
  });

  it('a missing secrets.yaml names the secret and the file', () => {
    const err = failure(() => loadAgent());
    expect(err.code).toBe(ErrorCodes.FILE);
    expect(err.message).toMatch(
      /agent config .*agent\.yaml: !secret mqtt_password: cannot read .*secrets\.yaml: it does not exist/,
    );
  });

  it('an unknown secret name names the secret and the file, and lists the names (not the values)', () => {
    file('secrets.yaml', 'mqtt_pasword: "typo-value-1"\nacme: "typo-value-2"\n');
    const err = failure(() => loadAgent());
    expect(err.code).toBe(ErrorCodes.FILE);
    expect(err.message).toContain(
      `!secret mqtt_password: ${join(dir, 'secrets.yaml')} has no "mqtt_password"`,
    );
    expect(err.message).toContain('(it has "mqtt_pasword", "acme")');
    expect(err.message).not.toMatch(/typo-value/);
  });

  it('a secret that is not a string, an empty secrets.yaml, or !secret without a name is refused', () => {
    file('secrets.yaml', 'mqtt_password: 0123\n');
    expect(failure(() => loadAgent()).message).toContain('!secret mqtt_password: the value in');
    file('secrets.yaml', '');
    expect(failure(() => loadAgent()).message).toContain('has no "mqtt_password" (it is empty)');
    file('secrets.yaml', '- a\n- b\n');
    expect(failure(() => loadAgent()).message).toContain('must map secret names to values');
    expect(
      failure(() => loadAgent(AGENT_YAML.replace('!secret mqtt_password', '!secret ""'))).message,
    ).toContain('!secret needs a name');
  });

  it('a secrets.yaml that is not YAML gives the position, not the line', () => {
    file('secrets.yaml', `mqtt_password: "${MQTT_PASSWORD}\n  : [\n`);
    const err = failure(() => loadAgent());
    expect(err.message).toMatch(/secrets\.yaml is not valid YAML at line \d+/);
    expect(err.message).not.toContain(MQTT_PASSWORD);
  });

  it('a config given as text has no secrets.yaml beside it unless told where', () => {
    const err = failure(() => parseConfigText(AgentConfig, AGENT_YAML, 'agent config'));
    expect(err.message).toContain(
      '!secret mqtt_password: secrets come from secrets.yaml beside a config file',
    );
    const secrets = file('elsewhere.yaml', `mqtt_password: "${MQTT_PASSWORD}"\n`);
    expect(
      parseConfigText(AgentConfig, AGENT_YAML, 'agent config', { secretsFile: secrets }).broker.password,
    ).toBe(MQTT_PASSWORD);
  });

  it('a secret the schema refuses is named by its field, never quoted', () => {
    file('secrets.yaml', 'acme_webhook: "too-short"\n');
    const yaml = `
suppliers: [{ id: acme }]
replenishment:
  webhooks:
    suppliers: [{ supplier: acme, url: "https://erp.acme.example/hook", secret: !secret acme_webhook }]
`;
    const err = failure(() =>
      loadConfigFile(CentralConfig, file('central.yaml', yaml), 'central config', { env: {} }),
    );
    expect(err.message).toContain('replenishment.webhooks.suppliers.0.secret: at least 16 characters');
    expect(err.message).not.toContain('too-short');
  });
});
