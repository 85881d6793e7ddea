/**
 * `--version` on every command, from the compiled CLIs: the `shelfsense` dispatcher, each of its
 * subcommands and their actions, and the standalone `shelfsense-agent` (module tree and bundle).
 * Each prints the package.json version and exits 0; every --help lists the flag.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBCOMMANDS } from '@shelfsense/cli';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/proc.js';

// Every workspace has the root's version (scripts/release.mjs checks it).
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const cli = (args: string[]) => runCli('cli/dist/main.js', args);

describe('--version', () => {
  it.each([['--version'], ['-V']])('`shelfsense %s` prints the version and exits 0', async (flag) => {
    const r = await cli([flag]);
    expect(r).toMatchObject({ code: 0, stdout: VERSION, stderr: '' });
  });

  it.each(SUBCOMMANDS.map((s) => s.name))('`shelfsense %s --version` prints the version', async (name) => {
    const r = await cli([name, '--version']);
    expect(r).toMatchObject({ code: 0, stdout: VERSION, stderr: '' });
  });

  it.each([
    ['users', 'add'],
    ['users', 'list'],
    ['config', 'apply'],
    ['config', 'export'],
    ['cluster', 'worker'],
    ['cluster', 'nats-auth'],
  ])('`shelfsense %s %s --version` prints the version', async (group, action) => {
    const r = await cli([group, action, '--version']);
    expect(r).toMatchObject({ code: 0, stdout: VERSION, stderr: '' });
  });

  it('wins over missing required flags, as --help does', async () => {
    // `central` requires --config; asking for the version needs none.
    const r = await cli(['central', '-V']);
    expect(r).toMatchObject({ code: 0, stdout: VERSION });
  });

  it.each([
    ['the module tree', 'agent/dist/main.js'],
    ['the bundle a Pi runs', 'agent/dist/shelfsense-agent.cjs'],
  ])('`shelfsense-agent --version`, %s', async (_what, script) => {
    const r = await runCli(script, ['--version']);
    expect(r).toMatchObject({ code: 0, stdout: VERSION, stderr: '' });
    const help = await runCli(script, ['--help']);
    expect(help.stdout).toMatch(/-V, --version\s+print the Shelfsense version/);
  });

  it('is listed in the top-level --help, each command’s and each group of actions’', async () => {
    const asked = [[], ['sim'], ['central'], ['users', 'add'], ['users'], ['config'], ['cluster'], ['bench']];
    const helps = await Promise.all(
      asked.map(async (args) => ({ args, help: (await cli([...args, '--help'])).stdout })),
    );
    for (const h of helps) {
      expect(h).toMatchObject({
        help: expect.stringMatching(/-V, --version\s+print the Shelfsense version/),
      });
    }
  });
});
