/**
 * NATS credentials and the `authorization` block: passwords kept across runs (and their hashes,
 * so a rerun changes nothing), rotated on request, removed with their user, all private; the block
 * holds bcrypt hashes only, MQTT-only users. And `shelfsense cluster nats-auth` refuses bad input
 * naming the flag or field at fault.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCommand, issueCredentials, renderNatsAuth } from '@shelfsense/central/cluster';
import { ShelfMap } from '@shelfsense/protocol';
import bcrypt from 'bcryptjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-nats-auth-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const read = (name: string) => readFileSync(join(dir, 'creds', `${name}.password`), 'utf8').trim();
const mode = (path: string) => statSync(path).mode & 0o777;

describe('NATS credentials', () => {
  it('issues a private password per user and keeps it, and its hash, on the next run', async () => {
    const creds = join(dir, 'creds');
    const first = await issueCredentials(creds, ['pi-1', 'acme-portal'], { cost: 4 });
    expect(first.issued).toEqual(['pi-1', 'acme-portal']);
    expect(mode(creds)).toBe(0o700);
    expect(mode(join(creds, 'pi-1.password'))).toBe(0o600);
    expect(read('pi-1')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await bcrypt.compare(read('pi-1'), first.hashes.get('pi-1')!)).toBe(true);

    const pw = read('pi-1');
    const again = await issueCredentials(creds, ['pi-1', 'acme-portal'], { cost: 4 });
    expect(again).toMatchObject({ issued: [], kept: ['pi-1', 'acme-portal'], removed: [] });
    expect(read('pi-1')).toBe(pw);
    expect(again.hashes.get('pi-1')).toBe(first.hashes.get('pi-1'));
  });

  it('rotates on request, replaces a password file someone shortened, and removes users no longer there', async () => {
    const creds = join(dir, 'creds');
    await issueCredentials(creds, ['pi-1', 'pi-2', 'ops'], { cost: 4 });
    const pi1 = read('pi-1');
    writeFileSync(join(creds, 'pi-2.password'), 'short\n');
    const next = await issueCredentials(creds, ['pi-1', 'pi-2'], { cost: 4, rotate: ['pi-1'] });
    expect(next).toMatchObject({ issued: ['pi-1', 'pi-2'], kept: [], removed: ['ops'] });
    expect(read('pi-1')).not.toBe(pi1);
    expect(await bcrypt.compare(read('pi-2'), next.hashes.get('pi-2')!)).toBe(true);
  });

  it('renders MQTT-only users with bcrypt hashes, quoted so NATS reads no variable', () => {
    const map = new ShelfMap({ suppliers: [], skus: [], sites: [] });
    const text = renderNatsAuth(
      [{ name: 'root', grant: { role: 'admin' }, passwordHash: '$2b$04$abc' }],
      map,
      ['header'],
    );
    expect(text).toContain('# header');
    expect(text).toContain('user: "root"');
    expect(text).toContain('password: "$2b$04$abc"');
    expect(text).toContain('allowed_connection_types: ["MQTT"]');
    expect(text).toMatch(/subscribe: \{ allow: \[">"\], deny: \["\$JS\.>"/);
  });
});

describe('shelfsense cluster nats-auth: bad input', () => {
  async function run(args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    const code = await clusterCommand.run(args);
    vi.restoreAllMocks();
    return { code, err };
  }

  it('names a missing or bad flag and exits 2', async () => {
    const out = await run(['nats-auth', '--credentials', join(dir, 'c')]);
    expect(out.code).toBe(2);
    expect(out.err).toMatch(/--out/);
    const cost = await run([
      'nats-auth',
      '--out',
      join(dir, 'x.conf'),
      '--credentials',
      dir,
      '--bcrypt-cost',
      '3',
    ]);
    expect(cost.code).toBe(2);
    expect(cost.err).toMatch(/--bcrypt-cost/);
    const rotate = await run([
      'nats-auth',
      '--out',
      join(dir, 'x.conf'),
      '--credentials',
      dir,
      '--rotate',
      'a b',
    ]);
    expect(rotate.err).toMatch(/--rotate/);
    expect((await run(['nats-auth', '--no-such-flag'])).err).toMatch(/no-such-flag/);
    expect((await run(['no-such-action'])).code).toBe(2);
  });

  it('names the field of an invalid central config, and a data dir without users.db', async () => {
    const yaml = join(dir, 'central.yaml');
    writeFileSync(yaml, `dataDir: ${JSON.stringify(join(dir, 'data'))}\nsites: [{ id: "bad id" }]\n`);
    const args = [
      'nats-auth',
      '--config',
      yaml,
      '--out',
      join(dir, 'x.conf'),
      '--credentials',
      join(dir, 'c'),
    ];
    const bad = await run(args);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/sites\.0\.id/);
    writeFileSync(yaml, `dataDir: ${JSON.stringify(join(dir, 'data'))}\n`);
    const empty = await run(args);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/dataDir: no users\.db/);
  });
});
