/**
 * MQTT over TLS with a test certificate (made with openssl when present, else with node:crypto),
 * and plain TCP switched off.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertFiles, makeCertificate, OPENSSL } from './certificate.js';
import { connect, login, startBroker, subscribeCodes, type TestBroker } from './helpers.js';

describe('broker over TLS', () => {
  let certDir: string;
  let cert: CertFiles;
  let tb: TestBroker;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'shelfsense-tls-'));
    cert = makeCertificate(certDir);
    expect(cert.certFile).toContain(OPENSSL ? 'openssl' : 'node');
    tb = await startBroker({
      mqtt: { port: false, tls: { port: 0, host: '127.0.0.1', ...cert }, websocket: { enabled: false } },
    });
  });

  afterAll(async () => {
    await tb?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('[TLS] plain TCP can be switched off: only the TLS port is bound', () => {
    expect(tb.broker.ports.tcp).toBeNull();
    expect(tb.broker.ports.tls).toBeGreaterThan(0);
  });

  it('[TLS] a client that trusts the test certificate connects, authenticates and exchanges messages', async () => {
    const tlsUrl = `mqtts://127.0.0.1:${tb.broker.ports.tls}`;
    const ca = readFileSync(cert.certFile);
    const sub = await connect(tlsUrl, {
      ...login('sup-x'),
      ca,
      servername: 'localhost',
      rejectUnauthorized: true,
    });
    expect(await subscribeCodes(sub.client, ['shelfsense/v1/+/+/+/level'])).toEqual([1]);
    const pub = await connect(tlsUrl, {
      ...login('agent-a'),
      ca,
      servername: 'localhost',
      rejectUnauthorized: true,
    });
    await pub.client.publishAsync('shelfsense/v1/A/a1/l1/level', 'over tls', { qos: 1 });
    await sub.waitFor((m) => m.payload === 'over tls', 'the message over TLS');
    await sub.end();
    await pub.end();
  });

  it('[TLS] a client that does not trust the certificate is refused by its own TLS check', async () => {
    const tlsUrl = `mqtts://127.0.0.1:${tb.broker.ports.tls}`;
    await expect(connect(tlsUrl, { ...login('sup-x'), rejectUnauthorized: true })).rejects.toThrow(
      /self[- ]signed/i,
    );
  });

  it('[TLS] a client offering only TLS 1.0 or 1.1 is refused by the broker', async () => {
    const port = tb.broker.ports.tls as number;
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const s = tlsConnect({
        port,
        host: '127.0.0.1',
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
        rejectUnauthorized: false,
      });
      s.once('secureConnect', () => {
        s.destroy();
        reject(new Error(`the broker accepted ${s.getProtocol()}`));
      });
      s.once('error', resolve);
    });
    // The broker's alert, not the client's own refusal.
    expect(err.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('[TLS] plain MQTT sent to the TLS port gets no CONNACK', async () => {
    const port = tb.broker.ports.tls as number;
    const reply = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const s = netConnect(port, '127.0.0.1', () =>
        s.write(
          Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]),
        ),
      );
      s.on('data', (d) => chunks.push(d));
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });
    // Whatever TLS answers (an alert, or nothing), it is not an MQTT CONNACK (0x20).
    expect(reply[0]).not.toBe(0x20);
  });

  it('[TLS] a certificate made with node:crypto alone works too (the fallback when openssl is absent)', async () => {
    const files = makeCertificate(certDir, 'node');
    const x509 = new X509Certificate(readFileSync(files.certFile));
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const other = await startBroker({
      mqtt: { port: false, tls: { port: 0, host: '127.0.0.1', ...files }, websocket: { enabled: false } },
    });
    try {
      const c = await connect(`mqtts://127.0.0.1:${other.broker.ports.tls}`, {
        ...login('admin'),
        ca: readFileSync(files.certFile),
        servername: 'localhost',
        rejectUnauthorized: true,
      });
      expect(c.client.connected).toBe(true);
      await c.end();
    } finally {
      await other.close();
    }
  });
});
