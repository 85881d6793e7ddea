/**
 * The one `shelfsense` command: help lists every subcommand, each subcommand answers --help, and a
 * wrong command is a usage error (exit 2), from the compiled CLI.
 */
import { SUBCOMMANDS } from '@shelfsense/cli';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../../helpers/proc.js';

const cli = (args: string[]) => run('cli/dist/main.js', args);

describe('shelfsense dispatcher', () => {
  it('lists every subcommand in --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const s of SUBCOMMANDS) expect(r.stdout).toContain(s.name);
  });

  it.each(SUBCOMMANDS.map((s) => s.name))('`shelfsense %s --help` prints its usage', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: shelfsense ${name}`));
  });

  it('a missing or unknown command is a usage error', async () => {
    expect((await cli([])).code).toBe(2);
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});
