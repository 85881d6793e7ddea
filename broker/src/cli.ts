/**
 * The broker package's subcommands for the `shelfsense` dispatcher (@shelfsense/cli).
 */
import type { Subcommand } from '@shelfsense/protocol/cli';
import { usersCommand } from './users-cli.js';

export const commands: Record<string, Subcommand> = { users: usersCommand };
