/**
 * A real Postgres (Debian's postgresql package) for tests: `initdb` into its own temp directory,
 * `postgres` on a free loopback port with its socket in that directory, trust authentication for
 * the one test role. Postgres refuses to run as root, so as root the server runs as the
 * `postgres` user the package creates. stop() and restart() keep the port and the data;
 * close() also removes the directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './brokers.js';

export interface TestPostgres {
  readonly port: number;
  /** `postgres://shelfsense@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly dir: string;
  /** A fast shutdown (open transactions rolled back); the data stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and data, resolving once it accepts a query. */
  restart(): Promise<void>;
  /** stop() and remove the directory. */
  close(): Promise<void>;
  /** A fresh schema name, for a store of its own inside the one database. */
  schema(): string;
  log(): string;
}

/** Where Debian puts the server programs (`/usr/lib/postgresql/15/bin`), newest version first. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0] as string, 'bin') : undefined;
}

function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

let schemas = 0;

export async function startPostgres(opts: { readyTimeoutMs?: number } = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('postgres is not installed (npm test installs it: apt-get install postgresql)');
  const user = serverUser();
  // The server's user must reach its directory: the run's temp directory is 0700 and root's, so
  // let others pass through it (not list it); a directory others can already enter is left alone.
  const parent = statSync(tmpdir());
  if (user && (parent.mode & 0o001) === 0) chmodSync(tmpdir(), (parent.mode & 0o7777) | 0o011);
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'shelfsense', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { stdio: 'pipe', cwd: dir, ...as },
  );
  const port = await freePort();
  const url = `postgres://shelfsense@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let log = '';
  let exited: Promise<void> = Promise.resolve();

  const accepts = async (): Promise<boolean> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  const up = async () => {
    // fsync off: a test's data need not survive a power cut, and it is a third of the time.
    const c = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...as },
    );
    child = c;
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (s: string) => {
      log += s;
    });
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`postgres exited; log: ${log}`);
      if (await accepts()) return;
      if (Date.now() > deadline)
        throw new Error(`postgres did not accept connections on ${port}; log: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const down = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    // SIGINT is Postgres's fast shutdown: roll back open transactions, then exit cleanly.
    c.kill('SIGINT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await up();
  return {
    port,
    url,
    dir,
    stop: down,
    restart: up,
    async close() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
    schema: () => `t${process.pid}_${++schemas}`,
    log: () => log,
  };
}
