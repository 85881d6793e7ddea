/**
 * The Node-RED side of the agent benchmark (bench/nodered): Node-RED 5 started headless by
 * run.mjs with the generated flow forwards every line from every shelf port to the broker, one
 * message per line on the shelf's topic — so the benchmark's message count really is its frames.
 * Real parts: Node-RED in its own process, Mosquitto, TCP servers standing in for the shelves.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { killAll, runCli, spawnCli } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

const RUNNER = 'bench/nodered/run.mjs';
let broker: TestBroker | undefined;
let sub: MqttClient | undefined;
const servers: Server[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await killAll();
  await sub?.endAsync(true);
  sub = undefined;
  for (const s of servers.splice(0)) s.close();
  await broker?.stop();
  broker = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A silent shelf port: keeps its client, writes only when told to. */
async function shelfPort(): Promise<{ port: number; client: () => Socket | undefined }> {
  let client: Socket | undefined;
  const server = createServer((s) => {
    client = s;
    s.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, client: () => client };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bench-nodered-'));
  dirs.push(d);
  return d;
}

describe('agent benchmark: the Node-RED flow', () => {
  it('[bench-nodered] tcp in → mqtt out forwards every line of every shelf, one message per line, on its own topic', async () => {
    broker = await startMosquitto();
    const got: { topic: string; line: string }[] = [];
    sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    sub.on('message', (topic, payload) => got.push({ topic, line: payload.toString() }));
    await sub.subscribeAsync('bench/raw/#', { qos: 1 });

    const shelves = [await shelfPort(), await shelfPort()];
    const userDir = tempDir();
    const red = spawnCli(
      RUNNER,
      [
        '--user-dir',
        userDir,
        '--broker-port',
        String(broker.port),
        '--ports',
        shelves.map((s) => s.port).join(','),
      ],
      { env: { SHELFSENSE_BENCH_RECONNECT_MS: '100' } },
    );
    await red.waitForJson<{ msg: string }>((o) => o.msg === 'Started flows', 60_000);
    await red.waitForJson<{ type: string; msg: string }>(
      (o) => o.type === 'mqtt-broker' && o.msg.startsWith('Connected'),
      20_000,
    );
    const flow = JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as { type: string }[];
    expect(flow.filter((n) => n.type === 'tcp in')).toHaveLength(2);
    expect(flow.filter((n) => n.type === 'mqtt out')).toHaveLength(1);
    await waitFor(() => shelves.every((s) => s.client()), 20_000, { what: 'Node-RED on both ports' });

    // Shelf 0 sends 50 lines in one write; shelf 1 sends 30 with a line split across two writes.
    const lines0 = Array.from({ length: 50 }, (_, i) => `S,${i},1000,2000*ABCD`);
    const lines1 = Array.from({ length: 30 }, (_, i) => `S,${i},3000,4000*EF01`);
    shelves[0]?.client()?.write(`${lines0.join('\n')}\n`);
    const text1 = `${lines1.join('\n')}\n`;
    shelves[1]?.client()?.write(text1.slice(0, 25));
    shelves[1]?.client()?.write(text1.slice(25));

    await waitFor(() => got.length >= 80, 20_000, { what: '80 messages' });
    expect(got.filter((m) => m.topic === 'bench/raw/0').map((m) => m.line)).toEqual(lines0);
    expect(got.filter((m) => m.topic === 'bench/raw/1').map((m) => m.line)).toEqual(lines1);
  }, 120_000);

  it('[bench-nodered] the runner rejects bad arguments, naming the flag', async () => {
    const dir = tempDir();
    const r = await runCli(RUNNER, ['--user-dir', dir, '--broker-port', '70000', '--ports', '1,x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--broker-port');
    expect(r.stderr).toContain('--ports');
  });
});
