/**
 * `shelfsense users` as a user runs it: the compiled CLI (`node cli/dist/main.js users …`,
 * built by `npx tsc -b tsconfig.build.json`) against a data dir that a running broker reads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MqttBroker } from '@shelfsense/broker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildConfig, connect, mapConfig } from './helpers.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(root, 'cli/dist/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'users', ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shelfsense users ${args.join(' ')} did not finish`));
    }, 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/**
 * Which files in `dir` contain `needle`. Read in a child process: opening and closing the SQLite
 * file from the broker's own process would drop its POSIX locks and corrupt its view of the WAL.
 */
function filesHolding(dir: string, needle: string): Promise<string[]> {
  const script = `
    const fs = require('node:fs'), path = require('node:path');
    const [dir, needle] = process.argv.slice(1);
    const hits = fs.readdirSync(dir).filter((f) => fs.readFileSync(path.join(dir, f)).includes(Buffer.from(needle)));
    process.stdout.write(JSON.stringify({ files: fs.readdirSync(dir), hits }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, dir, needle], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', () => {
      const r = JSON.parse(out) as { files: string[]; hits: string[] };
      // The check means something only if the user store is among the files read.
      expect(r.files).toContain('users.db');
      resolve(r.hits);
    });
  });
}

describe('shelfsense users (compiled CLI)', () => {
  let dir: string;
  let broker: MqttBroker;
  let url: string;
  const PW1 = 'first password 1';
  const PW2 = 'second password 2';

  beforeAll(async () => {
    if (!existsSync(MAIN) || !existsSync(join(root, 'broker/dist/cli.js'))) {
      throw new Error('build first: npx tsc -b tsconfig.build.json');
    }
    dir = mkdtempSync(join(tmpdir(), 'shelfsense-users-'));
    broker = new MqttBroker({ config: buildConfig(dir), logger: pino({ level: 'silent' }) });
    await broker.start();
    url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const canLogin = (user: string, password: string) =>
    connect(url, { username: user, password }).then(
      async (c) => {
        await c.end();
        return true;
      },
      () => false,
    );

  it('[users] add → the running broker authenticates the user; the store never holds the password', async () => {
    const r = await cli(
      ['add', 'acme', '--role', 'supplier', '--supplier', 'X', '--data-dir', dir],
      `${PW1}\n`,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('added acme (supplier supplier=X)');
    expect(await canLogin('acme', PW1)).toBe(true);
    expect(await canLogin('acme', PW2)).toBe(false);
    expect(await filesHolding(dir, PW1)).toEqual([]);
    const list = await cli(['list', '--json', '--data-dir', dir]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([{ name: 'acme', role: 'supplier', supplier: 'X' }]);
  });

  it('[users] passwd changes the password: the old one and the tokens issued before stop working, the new one works', async () => {
    const token = (await cli(['token', 'acme', '--data-dir', dir])).stdout.trim();
    expect(await canLogin('acme', token)).toBe(true);
    const r = await cli(['passwd', 'acme', '--data-dir', dir], `${PW2}\r\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('its tokens no longer work');
    expect(await canLogin('acme', PW1)).toBe(false);
    expect(await canLogin('acme', token)).toBe(false);
    expect(() => broker.verifyToken(token)).toThrow(/password has changed/);
    expect(await canLogin('acme', PW2)).toBe(true);
    expect(await filesHolding(dir, PW2)).toEqual([]);
  });

  it('[users] token prints a token MQTT accepts in place of the password', async () => {
    const r = await cli(['token', 'acme', '--ttl', '5m', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(await canLogin('acme', r.stdout.trim())).toBe(true);
  });

  it('[users] remove: the user can no longer log in, with a password or a token', async () => {
    const token = (await cli(['token', 'acme', '--data-dir', dir])).stdout.trim();
    const r = await cli(['remove', 'acme', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(await canLogin('acme', PW2)).toBe(false);
    expect(await canLogin('acme', token)).toBe(false);
  });

  it('[users] --config takes the data dir from the config and checks sites and suppliers against the map', async () => {
    const cfgDir = mkdtempSync(join(tmpdir(), 'shelfsense-users-cfg-'));
    try {
      const file = join(cfgDir, 'central.yaml');
      writeFileSync(file, stringify({ ...mapConfig(), dataDir: dir }));
      const ok = await cli(
        ['add', 'tech-1', '--role', 'technician', '--site', 'A', '--site', 'B', '--config', file],
        `${PW1}\n`,
      );
      expect(ok.code).toBe(0);
      expect(await canLogin('tech-1', PW1)).toBe(true);
      const badSite = await cli(
        ['add', 'op-9', '--role', 'operator', '--site', 'Z', '--config', file],
        `${PW1}\n`,
      );
      expect(badSite.code).toBe(2);
      expect(badSite.stderr).toContain('unknown site "Z"');
      const badSupplier = await cli(
        ['add', 's-9', '--role', 'supplier', '--supplier', 'nope', '--config', file],
        `${PW1}\n`,
      );
      expect(badSupplier.code).toBe(2);
      expect(badSupplier.stderr).toContain('unknown supplier "nope"');
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });

  const BAD: [string, string[], string, RegExp][] = [
    ['no role', ['add', 'u1', '--data-dir', '<dir>'], PW1, /--role/],
    ['unknown role', ['add', 'u1', '--role', 'god', '--data-dir', '<dir>'], PW1, /--role: one of agent/],
    [
      'supplier without --supplier',
      ['add', 'u1', '--role', 'supplier', '--data-dir', '<dir>'],
      PW1,
      /needs --supplier/,
    ],
    [
      'agent without a site',
      ['add', 'u1', '--role', 'agent', '--data-dir', '<dir>'],
      PW1,
      /exactly one --site/,
    ],
    [
      'bad user name',
      ['add', 'no spaces', '--role', 'admin', '--data-dir', '<dir>'],
      PW1,
      /name: letters, digits/,
    ],
    [
      'short password',
      ['add', 'u1', '--role', 'admin', '--data-dir', '<dir>'],
      'short\n',
      /password: at least 8/,
    ],
    ['empty password', ['add', 'u1', '--role', 'admin', '--data-dir', '<dir>'], '', /password: at least 8/],
    ['no data dir', ['add', 'u1', '--role', 'admin'], PW1, /exactly one of --data-dir or --config/],
    ['both data dir and config', ['list', '--data-dir', '<dir>', '--config', 'x.yaml'], '', /exactly one of/],
    ['duplicate user', ['add', 'tech-1', '--role', 'admin', '--data-dir', '<dir>'], PW1, /already exists/],
    ['remove unknown', ['remove', 'ghost', '--data-dir', '<dir>'], '', /no user "ghost"/],
    ['passwd unknown', ['passwd', 'ghost', '--data-dir', '<dir>'], PW1, /no user "ghost"/],
    [
      'password on the command line',
      ['add', 'u1', '--role', 'admin', '--password', 'x', '--data-dir', '<dir>'],
      '',
      /Unknown option '--password'/,
    ],
    ['unknown action', ['frobnicate'], '', /unknown action "frobnicate"/],
    [
      'missing config file',
      ['list', '--config', '/nonexistent/central.yaml'],
      '',
      /cannot read central config/,
    ],
  ];
  for (const [what, args, stdin, message] of BAD) {
    it(`[users] bad input (${what}) → one clear error, exit 2, nothing changed`, async () => {
      const before = (await cli(['list', '--json', '--data-dir', dir])).stdout;
      const r = await cli(
        args.map((a) => (a === '<dir>' ? dir : a)),
        stdin.endsWith('\n') || stdin === '' ? stdin : `${stdin}\n`,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect((await cli(['list', '--json', '--data-dir', dir])).stdout).toBe(before);
    });
  }
});
