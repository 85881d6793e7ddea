/**
 * `shelfsense central`.
 */
import type { AnySchema } from '@shelfsense/protocol';
import { CentralConfig, LogLevel, loadConfigFile, partMixin, rootLogger } from '@shelfsense/protocol';
import { type CommandSpec, runCommand, type Subcommand, untilSignal } from '@shelfsense/protocol/cli';
import { pino } from 'pino';
import { z } from 'zod';
import { Central, serviceParts } from './central.js';

const centralSpec = {
  name: 'central',
  usage: '--config FILE [options]',
  description:
    'Runs the central side: the MQTT broker (TCP, WebSocket at /mqtt, TLS), ingest, the rules,\n' +
    'orders and supplier webhooks, the SQLite history, and the HTTP API and dashboard. Parts can be\n' +
    'switched off in the config (parts.broker: false with externalBroker to use Mosquitto or EMQX).',
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description: 'central config (YAML); see docs/central.md',
    },
    'log-level': { type: 'string', value: 'LEVEL', description: 'override the config’s log level' },
  },
  schema: z.object({ config: z.string().min(1, 'required'), 'log-level': z.optional(LogLevel) }),
  examples: ['shelfsense central --config /etc/shelfsense/central.yaml'],
} satisfies CommandSpec<AnySchema>;

export const centralCommand: Subcommand = {
  name: 'central',
  summary: 'run the central side',
  run: (argv) =>
    runCommand(centralSpec, argv, async (flags) => {
      if (!flags.config) throw new Error('--config is required');
      const loaded = loadConfigFile(CentralConfig, flags.config, 'central config');
      const config = flags['log-level'] ? { ...loaded, log: { level: flags['log-level'] } } : loaded;
      const log = rootLogger(
        pino({ level: config.log.level, base: null, mixin: partMixin }, pino.destination(2)),
        'central',
      );
      const central = new Central({ config, logger: log, parts: serviceParts() });
      await central.start();
      process.stdout.write(
        `${JSON.stringify({ ready: true, http: central.httpPort, mqtt: central.mqttPort, dataDir: central.dataDir })}\n`,
      );
      await untilSignal();
      await central.stop();
      return 0;
    }),
};
