/**
 * `shelfsense agent` as a user meets it: help, and clear errors naming the field for bad config
 * files and bad flags (exit code 2), from the compiled CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as run } from '../../helpers/proc.js';

const runCli = (args: string[]) => run('cli/dist/main.js', args);

const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('shelfsense agent CLI', () => {
  it('prints help with every option', async () => {
    const r = await runCli(['agent', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--config', '--source', '--broker', '--site', '--password-file', '--trim-on']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it.each([
    ['an unknown flag', ['--colour', 'red'], /Unknown option '--colour'/],
    [
      'a bad --trim-on',
      ['--source', '/dev/x', '--broker', 'mqtt://h:1', '--site', 's', '--trim-on', 'never'],
      /--trim-on/,
    ],
    [
      'a bad --unit-weight',
      ['--source', '/dev/x', '--broker', 'mqtt://h:1', '--site', 's', '--unit-weight', '-3'],
      /--unit-weight/,
    ],
    ['missing --broker and --site', ['--source', '/dev/x'], /--broker, --site/],
    ['a bad broker URL', ['--source', '/dev/x', '--broker', 'http://h', '--site', 's'], /broker\.url/],
    [
      '--config with --source',
      ['--config', '/nope.yaml', '--source', '/dev/x'],
      /cannot be combined with --source/,
    ],
  ])('rejects %s with exit code 2', async (_name, args, message) => {
    const r = await runCli(['agent', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('lists every error of a bad config file with its path', async () => {
    const f = file(
      'bad.yaml',
      'agent: { id: "no spaces", site: store-1 }\nsources: []\nbroker: { url: mqtt://h:1, keepaliveS: 0 }\nsignal: { medianWindow: 99 }\n',
    );
    const r = await runCli(['agent', '--config', f]);
    expect(r.code).toBe(2);
    for (const path of ['agent.id', 'sources', 'broker.keepaliveS', 'signal.medianWindow'])
      expect(r.stderr).toContain(path);
  });

  it('says so when the config file is missing or is not YAML', async () => {
    const missing = await runCli(['agent', '--config', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read agent config/);
    const broken = await runCli(['agent', '--config', file('broken.yaml', 'agent: [1,\n')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid YAML/);
  });
});
