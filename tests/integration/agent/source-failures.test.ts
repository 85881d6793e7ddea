/**
 * Why a shelf never comes up, in the agent's log at its default level: a source that cannot open
 * its serial port or reach its TCP bridge says so at `warn` — once per outage and reason — and logs
 * each further attempt that fails the same way at `info` only. Real ptys (socat) and real sockets.
 */
import { createServer, type Server } from 'node:net';
import { SerialSource, type ShelfSource, TcpSource } from '@shelfsense/agent';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../helpers/log-capture.js';
import { closeAllPtys, startPtyPair } from '../../helpers/pty.js';
import { waitFor } from '../../helpers/wait.js';

const backoff = { minMs: 10, maxMs: 30 };
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await closeAllPtys();
});

/** A captured logger, with the failures it logged at warn and at info. */
function capture() {
  const { log, at } = captureLog('info');
  return { log, warns: () => at(40), infos: () => at(30) };
}

function started<T extends ShelfSource>(source: T): T {
  source.start();
  cleanup.push(() => source.stop());
  return source;
}

function opened(source: ShelfSource): Promise<void> {
  return new Promise((resolve) => source.once('open', resolve));
}

describe('a source that cannot be read', () => {
  it('[source-fail-serial] a missing serial port is a warning once, each further attempt info; unplugged again, a warning again', async () => {
    const pty = await startPtyPair();
    await pty.stop();
    const { log, warns, infos } = capture();
    const source = started(new SerialSource({ path: pty.b, baudRate: 115200 }, backoff, log));
    await waitFor(() => source.reconnects >= 4, 5_000, { what: 'four reconnect attempts' });

    expect(warns()).toHaveLength(1);
    expect(warns()[0]).toMatchObject({ source: pty.b, msg: expect.stringMatching(/cannot be read/) });
    expect(warns()[0]?.reason).toMatch(/no such file|ENOENT/i);
    expect(infos().length).toBeGreaterThanOrEqual(3);
    expect(infos().every((e) => e.reason === warns()[0]?.reason)).toBe(true);

    // Plugged in: it opens. Unplugged: the new outage is a warning of its own.
    const open = opened(source);
    await pty.restart();
    await open;
    await pty.stop();
    // The read fails at once when the pty goes, or else the 5 s silence watchdog reopens it.
    await waitFor(() => warns().length >= 2, 15_000, { what: 'a warning for the second outage' });
    const reconnects = source.reconnects;
    await waitFor(() => source.reconnects >= reconnects + 4, 5_000, { what: 'four more attempts' });
    const after = warns().slice(1);
    // The port closing, then the path missing: each reason once.
    expect(new Set(after.map((e) => e.reason)).size).toBe(after.length);
    expect(after.at(-1)?.reason).toMatch(/no such file|ENOENT/i);
  });

  it('[source-fail-tcp] an unreachable bridge is a warning once, each further attempt info; a bridge that drops, a warning again', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const url = `tcp://127.0.0.1:${port}`;
    const { log, warns, infos } = capture();
    const source = started(new TcpSource(url, backoff, log));
    await waitFor(() => source.reconnects >= 4, 5_000, { what: 'four reconnect attempts' });

    expect(warns()).toHaveLength(1);
    expect(warns()[0]).toMatchObject({ source: url, msg: expect.stringMatching(/cannot be read/) });
    expect(warns()[0]?.reason).toMatch(/ECONNREFUSED/);
    expect(infos().length).toBeGreaterThanOrEqual(3);

    // The bridge comes up, the agent connects, the bridge drops the connection and goes away.
    const bridge = createServer((s) => {
      setTimeout(() => {
        s.destroy();
        bridge.close();
      }, 50);
    });
    const open = opened(source);
    await new Promise<void>((r) => bridge.listen(port, '127.0.0.1', r));
    await open;
    await waitFor(() => warns().length >= 3, 5_000, { what: 'warnings for the drop and the refusal' });
    expect(warns()[1]?.reason).toBe('connection closed');
    expect(warns()[2]?.reason).toMatch(/ECONNREFUSED/);
    const reconnects = source.reconnects;
    await waitFor(() => source.reconnects >= reconnects + 3, 5_000, { what: 'three more attempts' });
    expect(warns()).toHaveLength(3);
  });
});
