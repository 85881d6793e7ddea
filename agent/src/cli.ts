/**
 * `shelfsense agent`: runs the edge agent until SIGINT/SIGTERM; with `--list-ports`, prints the
 * serial ports discovery sees and exits.
 */

import { join } from 'node:path';
import { type AnySchema, ErrorCodes, ShelfError } from '@shelfsense/protocol';
import { type CommandSpec, numberFlag, runCommand, type Subcommand } from '@shelfsense/protocol/cli';
import * as z from '@shelfsense/protocol/zod';
import { Agent } from './agent.js';
import { resolveAgentConfig } from './config.js';
import { createLogger } from './log.js';
import type { PortList, PortListDirs } from './source/port-list.js';

const spec = {
  name: 'agent',
  usage:
    '[--config FILE] | --source PATH|tcp://HOST:PORT… --broker URL --site ID [options] | --list-ports [--json]',
  description:
    'Reads weight-sensing shelves over serial or a TCP bridge, counts items, and publishes levels and\n' +
    'events over MQTT through a durable outbox. The broker password comes from --password-file or the\n' +
    'SHELFSENSE_PASSWORD environment variable, never from the command line.\n\n' +
    '--list-ports prints the serial ports a `discover` source chooses from (device, /dev/serial links,\n' +
    'USB ids, serial number, maker and product) and exits; it needs no config and no broker.',
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
      description: 'MQTT broker, e.g. mqtt://central:1883; a cluster’s nodes comma-separated, tried in turn',
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
    'list-ports': {
      type: 'boolean',
      description: 'print the serial ports discovery sees, then exit',
    },
    json: { type: 'boolean', description: 'with --list-ports: print them as JSON' },
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
    'list-ports': z.optional(z.boolean()),
    json: z.optional(z.boolean()),
  }),
  examples: [
    'shelfsense agent --source /dev/ttyUSB0 --broker mqtt://central:1883 --site store-1 -u pi-1',
    'shelfsense agent --config /etc/shelfsense/agent.yaml',
    'shelfsense agent --list-ports',
  ],
} satisfies CommandSpec<AnySchema>;

type Flags = z.infer<typeof spec.schema>;

/**
 * Where the port lister reads. Test-only: SHELFSENSE_TEST_SYSROOT names a directory holding a
 * made-up `sys/` and `dev/` (with `dev/serial/by-id` and `dev/serial/by-path`), read in place of
 * the machine's own.
 */
function portListDirs(): PortListDirs {
  const root = process.env.SHELFSENSE_TEST_SYSROOT;
  if (!root) return {};
  return {
    sysfsDir: join(root, 'sys'),
    devDir: join(root, 'dev'),
    byIdDir: join(root, 'dev', 'serial', 'by-id'),
    byPathDir: join(root, 'dev', 'serial', 'by-path'),
  };
}

/** One block per port: the device, then what identifies it, one `key value` line each. */
function formatPorts(list: PortList, dirs: Required<PortListDirs>): string {
  if (list.ports.length === 0) {
    return (
      `No serial ports found (read ${join(dirs.sysfsDir, 'class', 'tty')}, ${dirs.byIdDir} and ` +
      `${dirs.byPathDir}).\n`
    );
  }
  const under = (dir: string) => (link: string) => link.startsWith(`${dir}/`);
  const blocks = list.ports.map((p) => {
    const rows: [string, string | undefined][] = [
      ['usb id', p.vendorId || p.productId ? `${p.vendorId ?? '?'}:${p.productId ?? '?'}` : undefined],
      ['serial', p.serialNumber],
      ['manufacturer', p.manufacturer],
      ['product', p.product],
      ...p.links.filter(under(dirs.byIdDir)).map((l): [string, string] => ['by-id', l]),
      ...p.links.filter(under(dirs.byPathDir)).map((l): [string, string] => ['by-path', l]),
    ];
    const lines = rows.filter((r): r is [string, string] => r[1] !== undefined);
    return [p.path, ...lines.map(([k, v]) => `  ${k.padEnd(12)}  ${v}`)].join('\n');
  });
  return (
    `${blocks.join('\n\n')}\n\n` +
    'Choose the shelves by by-id name, usb id or serial number in `discover` (docs/agent.md).\n'
  );
}

/** `--list-ports [--json]`: takes no other flag; loads the lister (its own chunk) only now. */
async function listPorts(flags: Flags, positionals: string[]): Promise<number> {
  const others = Object.keys(flags).filter(
    (k) => k !== 'list-ports' && k !== 'json' && flags[k as keyof Flags] !== undefined,
  );
  if (others.length || positionals.length) {
    const what = others.length ? others.map((k) => `--${k}`).join(', ') : `"${positionals[0]}"`;
    throw new ShelfError(ErrorCodes.USAGE, `--list-ports takes no other flag but --json (got ${what})`);
  }
  const { DEFAULT_DIRS, listSerialPorts } = await import('./source/port-list.js');
  const dirs = { ...DEFAULT_DIRS, ...portListDirs() };
  const list = listSerialPorts(dirs);
  if (!list.sysfs) {
    process.stderr.write(
      `shelfsense agent: no serial ttys in ${join(dirs.sysfsDir, 'class', 'tty')}: ` +
        'only the /dev/serial links are listed\n',
    );
  }
  process.stdout.write(flags.json ? `${JSON.stringify(list)}\n` : formatPorts(list, dirs));
  return 0;
}

export const agentCommand: Subcommand = {
  name: 'agent',
  summary: 'run the edge agent',
  run: (argv) =>
    runCommand(spec, argv, async (flags, positionals) => {
      if (flags['list-ports']) return listPorts(flags, positionals);
      if (flags.json) throw new ShelfError(ErrorCodes.USAGE, '--json goes with --list-ports');
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
