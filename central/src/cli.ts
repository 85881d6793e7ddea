/**
 * The central package's subcommands for the `shelfsense` dispatcher (@shelfsense/cli).
 */
import type { Subcommand } from '@shelfsense/protocol/cli';
import { configCommand } from './catalogue/cli.js';
import { clusterCommand } from './cluster/cli.js';

/** `central` loads every part (broker, HTTP, Node-RED …) only when it runs: `config` needs none. */
const central: Subcommand = {
  name: 'central',
  summary: 'run the central side',
  run: async (argv) => (await import('./service/cli.js')).centralCommand.run(argv),
};

export const commands: Record<string, Subcommand> = {
  central,
  config: configCommand,
  cluster: clusterCommand,
};
