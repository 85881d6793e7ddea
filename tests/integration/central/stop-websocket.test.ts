/**
 * The central stops while browsers (or a standalone Node-RED) hold MQTT over WebSocket at /mqtt:
 * the HTTP listener closes upgraded sockets too, so the stop completes and the clients are told.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, startAuthCentral } from '../broker/central-auth.js';

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('central stop with MQTT over WebSocket clients', () => {
  it('completes, and each WebSocket client sees its connection close', async () => {
    const c = await startAuthCentral();
    const clients = ['op-a', 'sup-x'].map((username) =>
      mqtt.connect(c.wsUrl, { username, password: PASSWORD, reconnectPeriod: 0, connectTimeout: 5_000 }),
    );
    cleanup = async () => {
      for (const cl of clients) cl.end(true);
    };
    await within(
      Promise.all(
        clients.map(
          (cl) =>
            new Promise<void>((resolve, reject) => {
              cl.once('connect', () => resolve());
              cl.once('error', reject);
            }),
        ),
      ),
      10_000,
      'the WebSocket logins',
    );
    const closed = clients.map((cl) => new Promise<void>((resolve) => cl.once('close', () => resolve())));
    await within(c.close(), 10_000, 'central.stop()');
    await within(Promise.all(closed), 5_000, 'the clients seeing the close');
    expect(clients.every((cl) => !cl.connected)).toBe(true);
  });
});
