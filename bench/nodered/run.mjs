#!/usr/bin/env node
/**
 * Runs Node-RED 5 headless for the agent benchmark: the flow an integrator would wire to forward
 * shelf frames to MQTT with core nodes only — one `tcp in` per shelf (client mode, a stream of
 * lines) into one `mqtt out` — written to USERDIR/flows.json, then the stock `node-red` entry
 * (red.js) started in this same process with bench/nodered/settings.cjs, so the process measured
 * is Node-RED as deployed.
 *
 *   node bench/nodered/run.mjs --user-dir DIR --broker-port PORT --ports P1,P2,… [--qos 0|1]
 *                              [--topic bench/raw] [--host 127.0.0.1]
 *
 * Each tcp in sets msg.topic to TOPIC/<index>; the mqtt out publishes msg.payload (one line) there.
 * Log records (info and above) are printed on stdout as JSON lines by the settings file.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const Port = z.coerce.number().int().min(1).max(65_535);
const Args = z.strictObject({
  'user-dir': z.string().min(1),
  'broker-port': Port,
  ports: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(Port).min(1).max(64)),
  qos: z.enum(['0', '1', '2']).default('0'),
  topic: z
    .string()
    .regex(/^[^#+]+$/, 'no MQTT wildcards')
    .default('bench/raw'),
  host: z.string().min(1).default('127.0.0.1'),
});

/** The flow: a tab, a broker config node, one mqtt out, and one tcp in per shelf wired to it. */
export function benchFlow({ brokerPort, ports, qos, topic, host }) {
  const flow = [
    { id: 'bench.tab', type: 'tab', label: 'shelves to MQTT', disabled: false, info: '' },
    {
      id: 'bench.broker',
      type: 'mqtt-broker',
      name: 'bench broker',
      broker: host,
      port: String(brokerPort),
      clientid: '',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: '',
      closeTopic: '',
      willTopic: '',
    },
    {
      id: 'bench.out',
      type: 'mqtt out',
      z: 'bench.tab',
      name: 'frames',
      topic: '',
      qos,
      retain: 'false',
      respTopic: '',
      contentType: '',
      userProps: '',
      correl: '',
      expiry: '',
      broker: 'bench.broker',
      x: 420,
      y: 40,
      wires: [],
    },
  ];
  ports.forEach((port, i) => {
    flow.push({
      id: `bench.in${i}`,
      type: 'tcp in',
      z: 'bench.tab',
      name: `shelf ${i}`,
      server: 'client',
      host,
      port: String(port),
      datamode: 'stream',
      datatype: 'utf8',
      newline: '\\n',
      topic: `${topic}/${i}`,
      trim: false,
      base64: false,
      tls: '',
      x: 120,
      y: 40 + 40 * i,
      wires: [['bench.out']],
    });
  });
  return flow;
}

function main() {
  const { values } = parseArgs({
    options: {
      'user-dir': { type: 'string' },
      'broker-port': { type: 'string' },
      ports: { type: 'string' },
      qos: { type: 'string' },
      topic: { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      process.stderr.write(`run.mjs: --${issue.path.join('.') || 'args'}: ${issue.message}\n`);
    }
    process.exit(2);
  }
  const a = parsed.data;
  const userDir = a['user-dir'];
  const flow = benchFlow({
    brokerPort: a['broker-port'],
    ports: a.ports,
    qos: a.qos,
    topic: a.topic,
    host: a.host,
  });
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow, null, 2));

  const require = createRequire(import.meta.url);
  const redJs = join(dirname(require.resolve('node-red/package.json')), 'red.js');
  const settings = join(dirname(fileURLToPath(import.meta.url)), 'settings.cjs');
  // red.js reads its options from process.argv when it loads.
  process.argv = [process.argv[0], redJs, '--settings', settings, '--userDir', userDir];
  require(redJs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
