/**
 * `shelfsense agent`: runs the edge agent until SIGINT/SIGTERM.
 */

import type { AnySchema } from '@shelfsense/protocol';
import { type CommandSpec, numberFlag, runCommand, type Subcommand } from '@shelfsense/protocol/cli';
import * as z from '@shelfsense/protocol/zod';
import { Agent } from './agent.js';
import { resolveAgentConfig } from './config.js';
import { createLogger } from './log.js';

const spec = {
  name: 'agent',
  usage: '[--config FILE] | --source PATH|tcp://HOST:PORT… --broker URL --site ID [options]',
  description:
    'Reads weight-sensing shelves over serial or a TCP bridge, counts items, and publishes levels and\n' +
    'events over MQTT through a durable outbox. The broker password comes from --password-file or the\n' +
    'SHELFSENSE_PASSWORD environment variable, never from the command line.',
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description: 'agent config (YAML); see docs/agent.md',
    },
    source: {
      type: 'string',
      short: 's',
      multiple: true,
      value: 'SRC',
      description: 'a serial device path or tcp://host:port (repeat for several shelves)',
    },
    broker: {
      type: 'string',
      short: 'b',
      value: 'URL',
      description: 'MQTT broker, e.g. mqtt://central:1883',
    },
    site: { type: 'string', value: 'ID', description: 'the site this agent serves' },
    id: { type: 'string', value: 'ID', description: 'this agent’s id (default agent-1)' },
    username: { type: 'string', short: 'u', value: 'NAME', description: 'broker user name' },
    'password-file': { type: 'string', value: 'FILE', description: 'file holding the broker password' },
    'state-dir': {
      type: 'string',
      value: 'DIR',
      description: 'outbox, calibration and cached lane settings',
    },
    'trim-on': {
      type: 'string',
      value: 'central|broker',
      description: 'trim the outbox on central’s stored mark (default) or the broker’s PUBACK',
    },
    'unit-weight': {
      type: 'string',
      value: 'GRAMS',
      description: 'unit weight for lanes with no settings (100)',
    },
    'log-level': {
      type: 'string',
      value: 'LEVEL',
      description: 'fatal|error|warn|info|debug|trace (default warn)',
    },
    'metrics-port': { type: 'string', value: 'PORT', description: 'serve Prometheus metrics on this port' },
  },
  schema: z.object({
    config: z.optional(z.string()),
    source: z.optional(z.array(z.string().check(z.minLength(1)))),
    broker: z.optional(z.string()),
    site: z.optional(z.string()),
    id: z.optional(z.string()),
    username: z.optional(z.string()),
    'password-file': z.optional(z.string()),
    'state-dir': z.optional(z.string()),
    'trim-on': z.optional(z.enum(['central', 'broker'])),
    'unit-weight': z.optional(numberFlag(z.number().check(z.positive()))),
    'log-level': z.optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
    'metrics-port': z.optional(numberFlag(z.number().check(z.int(), z.minimum(0), z.maximum(65535)))),
  }),
  examples: [
    'shelfsense agent --source /dev/ttyUSB0 --broker mqtt://central:1883 --site store-1 -u pi-1',
    'shelfsense agent --config /etc/shelfsense/agent.yaml',
  ],
} satisfies CommandSpec<AnySchema>;

export const agentCommand: Subcommand = {
  name: 'agent',
  summary: 'run the edge agent',
  run: (argv) =>
    runCommand(spec, argv, async (flags) => {
      const config = resolveAgentConfig(flags);
      const log = createLogger(config.log.level, { agent: config.agent.id, site: config.agent.site });
      const agent = new Agent(config, log);
      await agent.start();
      process.stdout.write(
        `${JSON.stringify({ agent: config.agent.id, site: config.agent.site, ready: true, metricsPort: agent.metricsPort })}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await agent.stop();
      return 0;
    }),
};

export const commands: Record<string, Subcommand> = { agent: agentCommand };
