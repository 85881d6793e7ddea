/**
 * The central process as an ordered list of parts: a part that fails to start is named in one
 * error, and every part started before it stops, in reverse order (the real broker and HTTP server
 * among them, so their ports are free again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, type Part, PartStartError, serviceParts } from '@shelfsense/central';
import { CentralConfig, parseWith } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function central(extra: Part[]): Central {
  const dataDir = mkdtempSync(join(tmpdir(), 'central-parts-'));
  dirs.push(dataDir);
  const config = parseWith(
    CentralConfig,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
    },
    'test central config',
  );
  return new Central({ config, logger: pino({ level: 'silent' }), parts: extra });
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

describe('central parts', () => {
  it('runs the parts its config switches on, in order, and the extra ones before the HTTP listener', () => {
    const c = central(serviceParts());
    expect(c.partList().map((p) => p.name)).toEqual([
      'store',
      'catalogue',
      'history',
      'orders',
      'rules',
      'webhooks',
      'broker',
      'bus',
      'ingest',
      'commands',
      'metrics',
      'api',
      'node-red',
      'home-assistant',
      'dashboard',
      'http',
    ]);
  });

  it('a part that fails to start is named; the started ones stop in reverse order and free their ports', async () => {
    const events: string[] = [];
    let mqttPort = 0;
    const watcher = (name: string): Part => ({
      name,
      start(ctx) {
        // What the parts before it provide is there.
        events.push(`start ${name}${ctx.services.orders ? ' after orders' : ''}`);
        mqttPort = ctx.services.broker!.ports.tcp!;
      },
      stop() {
        events.push(`stop ${name}`);
      },
    });
    const failing: Part = {
      name: 'exploder',
      start() {
        throw new Error('out of fuses');
      },
      stop() {
        events.push('stop exploder');
      },
    };
    const c = central([watcher('first'), watcher('second'), failing]);
    const err = await c.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PartStartError);
    expect((err as PartStartError).part).toBe('exploder');
    expect((err as Error).message).toBe('exploder: out of fuses');
    expect(events).toEqual([
      'start first after orders',
      'start second after orders',
      'stop exploder',
      'stop second',
      'stop first',
    ]);
    expect(mqttPort).toBeGreaterThan(0);
    expect(await refused(mqttPort)).toBe(true);
    expect(c.store?.isOpen).toBe(false);
    await c.stop();
  });
});
