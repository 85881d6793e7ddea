/**
 * The Home Assistant config, bridges included: defaults, and errors that name the field. Also the
 * bridge's TLS files, read at start with an error naming the field when one cannot be read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HomeAssistantBridge } from '@shelfsense/central/testing';
import { CentralConfig, HomeAssistantConfig, parseWith } from '@shelfsense/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

const bridge = { id: 'home', url: 'mqtts://mosquitto.home.lan:8883', sites: ['s1'] };

function issues(input: unknown): string {
  try {
    parseWith(HomeAssistantConfig, input, 'home assistant config');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('integrations.homeAssistant', () => {
  it('[HA-CONFIG] defaults: off, prefix homeassistant, central broker on, no bridges', () => {
    expect(HomeAssistantConfig.parse({})).toMatchObject({
      enabled: false,
      prefix: 'homeassistant',
      nodeId: 'shelfsense',
      centralBroker: true,
      bridges: [],
    });
    expect(HomeAssistantConfig.parse({ bridges: [bridge] }).bridges[0]).toMatchObject({
      enabled: true,
      prefix: 'homeassistant',
      reconnectMs: 5_000,
    });
  });

  it('[HA-CONFIG] a bad bridge is refused with the field named', () => {
    expect(issues({ bridges: [{ ...bridge, sites: [] }] })).toMatch(/bridges\.0\.sites.*at least one site/);
    expect(issues({ bridges: [{ ...bridge, url: 'http://x' }] })).toMatch(/bridges\.0\.url.*MQTT URL/);
    expect(issues({ bridges: [{ ...bridge, tls: { cert: '/c.pem' } }] })).toMatch(
      /bridges\.0\.tls\.key.*cert and key go together/,
    );
    expect(issues({ bridges: [bridge, bridge] })).toMatch(/bridges\.1\.id.*used twice/);
    expect(issues({ bridges: [{ ...bridge, passwrd: 'x' }] })).toMatch(/bridges\.0/);
    expect(issues({ dashboardUrl: 'shelfsense.example' })).toMatch(/dashboardUrl/);
  });

  it('[HA-CONFIG] a TLS file that cannot be read stops the bridge with a code naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-config-'));
    try {
      const ha = HomeAssistantConfig.parse({
        enabled: true,
        bridges: [{ ...bridge, tls: { ca: join(dir, 'none.pem') } }],
      });
      const b = new HomeAssistantBridge({
        bridge: ha.bridges[0]!,
        ha,
        map: CentralConfig.parse({ suppliers: [], skus: [], sites: [] }),
        dataDir: dir,
        log: pino({ level: 'silent' }),
      });
      await expect(b.start()).rejects.toMatchObject({
        code: 'SHELF_ERR_HA_CONFIG',
        message: expect.stringContaining('bridges[home].tls.ca'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
