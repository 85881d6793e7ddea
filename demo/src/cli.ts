/**
 * `shelfsense demo`.
 */

import type { AnySchema } from '@shelfsense/protocol';
import { LogLevel, partMixin, rootLogger } from '@shelfsense/protocol';
import {
  type CommandSpec,
  durationFlag,
  numberFlag,
  runCommand,
  type Subcommand,
  untilSignal,
} from '@shelfsense/protocol/cli';
import { pino } from 'pino';
import { z } from 'zod';
import { demoBanner, startDemo } from './demo.js';

const demoSpec = {
  name: 'demo',
  usage: '[options]',
  description:
    'Starts everything on this machine: simulated shelves (TCP), an agent, and the central side with\n' +
    'an embedded broker, SQLite and the dashboard. Prints the dashboard URL and demo logins.\n' +
    'Customers pick; when a lane runs low an order opens, an automatic supplier acknowledges and\n' +
    'ships it (now and then one pack short), the goods arrive on the shelf item by item after the\n' +
    'delivery delay, and the shelf confirms the delivery by weight. With --manual-supplier you\n' +
    'acknowledge and ship in the dashboard (log in as acme or crunchy), or through the HTTP API.\n' +
    'Durations are milliseconds or text such as 1.5s or 2m.',
  flags: {
    dir: { type: 'string', value: 'DIR', description: 'keep data here (default: a new temp directory)' },
    speed: { type: 'string', value: 'X', description: 'scenario events X times faster (default 10)' },
    webhook: { type: 'string', value: 'URL', description: 'send the suppliers’ order webhooks here' },
    'http-port': {
      type: 'string',
      value: 'PORT',
      description: 'dashboard and API port (default 8080; 0: any)',
    },
    'mqtt-port': { type: 'string', value: 'PORT', description: 'MQTT port (default 1883; 0: any)' },
    'log-level': { type: 'string', value: 'LEVEL', description: 'log level (default warn)' },
    'manual-supplier': {
      type: 'boolean',
      description: 'no automatic supplier: people acknowledge and ship orders',
    },
    'supplier-delay': {
      type: 'string',
      value: 'MS',
      description: 'automatic supplier: wait before acknowledging, and before shipping (default 2000)',
    },
    'short-rate': {
      type: 'string',
      value: 'P',
      description: 'share of automatic shipments one pack short, 0–1 (default 0.2, seeded)',
    },
    'delivery-delay': {
      type: 'string',
      value: 'MS',
      description: 'shipped goods reach the shelf after this (default 3000)',
    },
    'item-ms': {
      type: 'string',
      value: 'MS',
      description: 'between two delivered items put on the shelf (default 100)',
    },
  },
  schema: z.object({
    dir: z.string().optional(),
    'manual-supplier': z.boolean().optional(),
    'supplier-delay': z.optional(durationFlag),
    'short-rate': z.optional(numberFlag(z.number().min(0).max(1))),
    'delivery-delay': z.optional(durationFlag),
    'item-ms': z.optional(durationFlag),
    speed: z.optional(numberFlag(z.number().positive().max(10_000))),
    webhook: z.url({ protocol: /^https?$/ }).optional(),
    'http-port': z.optional(numberFlag(z.number().int().min(0).max(65535))),
    'mqtt-port': z.optional(numberFlag(z.number().int().min(0).max(65535))),
    'log-level': z.optional(LogLevel),
  }),
  examples: [
    'shelfsense demo',
    'shelfsense demo --speed 30 --webhook http://localhost:9000/orders --http-port 0',
    'shelfsense demo --manual-supplier --delivery-delay 2s',
  ],
} satisfies CommandSpec<AnySchema>;

export const demoCommand: Subcommand = {
  name: 'demo',
  summary: 'everything on one machine',
  run: (argv) =>
    runCommand(demoSpec, argv, async (flags) => {
      const level = flags['log-level'] ?? 'warn';
      const log = rootLogger(pino({ level, base: null, mixin: partMixin }, pino.destination(2)), 'demo');
      const demo = await startDemo(
        {
          dir: flags.dir,
          httpPort: flags['http-port'] ?? 8080,
          mqttPort: flags['mqtt-port'] ?? 1883,
          speed: flags.speed ?? 10,
          webhook: flags.webhook,
          logLevel: level,
          supplier: flags['manual-supplier'] ? 'manual' : 'auto',
          supplierDelayMs: flags['supplier-delay'],
          shortRate: flags['short-rate'],
          deliveryDelayMs: flags['delivery-delay'],
          itemMs: flags['item-ms'],
        },
        log,
      );
      process.stdout.write(`${demoBanner(demo)}\n`);
      process.stdout.write(`${JSON.stringify({ ready: true, ...demo.urls, dir: demo.dir })}\n`);
      await untilSignal();
      process.stdout.write('Stopping…\n');
      await demo.stop();
      return 0;
    }),
};

export const commands: Record<string, Subcommand> = { demo: demoCommand };
