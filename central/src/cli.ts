/**
 * The central package's subcommands for the `shelfsense` dispatcher (@shelfsense/cli).
 */
import type { Subcommand } from '@shelfsense/protocol/cli';
import { centralCommand } from './service/cli.js';

export const commands: Record<string, Subcommand> = { central: centralCommand };
