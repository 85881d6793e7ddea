/**
 * The broker package's subcommands for the `shelfsense` dispatcher (protocol/src/cli.ts).
 */
import type { Subcommand } from '@shelfsense/protocol/cli';
import { benchCommand, centralCommand, demoCommand } from './central/cli.js';
import { usersCommand } from './users-cli.js';

export const commands: Record<string, Subcommand> = {
  users: usersCommand,
  central: centralCommand,
  demo: demoCommand,
  bench: benchCommand,
};
