/**
 * The bridge client over TLS to a real Mosquitto with a certificate from a private CA: with the CA
 * configured it connects (username and password over TLS) and publishes; without it, the broker's
 * certificate is refused and nothing is published. Certificates are made here with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HomeAssistant, startHomeAssistant } from '@shelfsense/central/testing';
import { CentralConfig, HomeAssistantConfig } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/brokers.js';
import { captureLog } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';
import { HaFollower, startUserMosquitto, type UserMosquitto } from './ha-helpers.js';

const BRIDGE_PASSWORD = 'bridge secret';
const HASS_PASSWORD = 'hass secret';

const MAP = CentralConfig.parse({
  suppliers: [{ id: 'acme' }],
  skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
  sites: [
    {
      id: 's1',
      shelves: [{ id: 'a', serial: 'SN1', agent: 'pi-1', lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] }],
    },
  ],
});

/** A CA, and a server certificate it signed for 127.0.0.1. */
function makeCerts(dir: string) {
  const f = (n: string) => join(dir, n);
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ]);
  ssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  ]);
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${f('ext.cnf')}`]);
  ssl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

describe('[HA-TLS] the bridge client over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-tls-'));
  let mosq: UserMosquitto;
  let tlsPort: number;
  const running: HomeAssistant[] = [];
  const fake = { publishRaw: async () => undefined, subscribe: async () => async () => undefined } as never;

  beforeAll(async () => {
    const certs = makeCerts(dir);
    tlsPort = await freePort();
    mosq = await startUserMosquitto({ shelfsense: BRIDGE_PASSWORD, hass: HASS_PASSWORD }, [
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${certs.ca}`,
      `certfile ${certs.cert}`,
      `keyfile ${certs.key}`,
    ]);
  });

  afterAll(async () => {
    for (const h of running) await h.stop();
    await mosq?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (tls: Record<string, unknown>, dataDir: string, log = captureLog('debug').log) => {
    const ha = await startHomeAssistant(
      { bus: fake, dataDir, log, config: MAP },
      HomeAssistantConfig.parse({
        enabled: true,
        centralBroker: false,
        bridges: [
          {
            id: 'home',
            url: `mqtts://127.0.0.1:${tlsPort}`,
            username: 'shelfsense',
            password: BRIDGE_PASSWORD,
            sites: ['s1'],
            reconnectMs: 200,
            tls,
          },
        ],
      }),
    );
    if (!ha) throw new Error('not started');
    running.push(ha);
    return ha;
  };

  it('with the CA that signed the broker’s certificate: connects and publishes', async () => {
    const ha = await start({ ca: join(dir, 'ca.pem') }, join(dir, 'ok'));
    await ha.bridges[0]!.ready;
    const follower = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
    try {
      await waitFor(() => follower.configs.size === 6, 5_000, { what: 'the six configs, over TLS' });
      expect(follower.invalid).toEqual([]);
    } finally {
      await follower.end();
    }
  });

  it('without it: the certificate is refused and nothing is published', async () => {
    const capture = captureLog('debug');
    const ha = await start({}, join(dir, 'refused'), capture.log);
    await waitFor(
      () =>
        capture.entries.some((e) => e.msg.includes('broker error') && /certificate/i.test(JSON.stringify(e))),
      5_000,
      { what: 'the certificate refused' },
    );
    expect(ha.bridges[0]!.connected).toBe(false);
    expect(ha.bridges[0]!.publisher.counters.published).toBe(0);
  });
});
