/**
 * What Shelfsense keeps on disk is its own user's alone, whatever the umask: under a umask of 022
 * (the usual one, which leaves new files 0644 and directories 0755), the compiled `shelfsense
 * central`, `shelfsense users add` and `shelfsense demo` and a real agent create their data
 * directories 0700 and their databases (with SQLite's -wal and -shm), secrets, outbox, counts,
 * calibration and lane settings 0600. Files an earlier version left 0644 are set to 0600 when
 * opened; a directory that already exists keeps the mode its operator gave it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { openDatabase } from '@shelfsense/central/store';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig } from '../../helpers/agent.js';
import { addUser, type CentralProcess, startCentral } from '../../helpers/central.js';
import { type CliProcess, killAll, ROOT, shelfsense } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

const SERIAL = 'SHELF-P';
const SEGMENT = /^outbox\/\d+\.seg$/;

function modeOf(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

/**
 * The mode of every directory and file under `root` (relative paths, `root` itself as `.`), not
 * descending into `skip`. Entries that vanish meanwhile (a temp file renamed) are left out.
 */
function modesUnder(root: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    out[relative(root, dir) || '.'] = modeOf(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (skip.includes(relative(root, p))) continue;
      try {
        if (e.isDirectory()) walk(p);
        else out[relative(root, p)] = modeOf(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  };
  walk(root);
  return out;
}

/** Every entry whose mode is not 0700 (directories) or 0600 (files). */
function notPrivate(modes: Record<string, string>, root: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(modes).filter(([p, m]) => {
      const isDir = statSync(join(root, p), { throwIfNoEntry: false })?.isDirectory() ?? false;
      return m !== (isDir ? '0700' : '0600');
    }),
  );
}

describe('[private files] data directories 0700, databases and secrets 0600, whatever the umask', () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-modes-'));
  let umask: number;
  let central: CentralProcess;
  let sim: Simulator;
  let agent: Agent;
  let demo: CliProcess | undefined;
  const dataDir = join(dir, 'var', 'central');
  const stateDir = join(dir, 'var', 'agent', 'state');

  beforeAll(async () => {
    // The usual umask: what the bug left world-readable. Processes started below inherit it.
    umask = process.umask(0o022);
    central = await startCentral(
      {
        dataDir,
        log: { level: 'warn' },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false } },
        suppliers: [{ id: 'acme' }],
        skus: [{ id: 'bolts', unitWeightG: 100, supplier: 'acme' }],
        sites: [
          {
            id: 'store-1',
            shelves: [
              {
                id: 'shelf-1',
                serial: SERIAL,
                agent: 'pi-1',
                lanes: [{ id: 'L0', channels: [0], sku: 'bolts', capacity: 30 }],
              },
            ],
          },
        ],
      },
      dir,
    );
    // Users added while central runs, as an operator would.
    addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
    addUser(dataDir, 'tech', ['--role', 'technician', '--site', 'store-1'], 'tech-password-1');
    sim = await startSimulator({
      seed: 31,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: { shelves: [{ serial: SERIAL, lanes: [{ unitWeightG: 100, items: 12, capacity: 30 }] }] },
    });
    agent = new Agent(
      agentConfig(sim, `mqtt://127.0.0.1:${central.mqtt}`, {
        broker: {
          url: `mqtt://127.0.0.1:${central.mqtt}`,
          username: 'pi-1',
          password: 'agent-password-1',
          reconnectMs: 100,
        },
        stateDir,
        shelves: [
          {
            serial: SERIAL,
            shelf: 'shelf-1',
            calibration: sim.truth(SERIAL, 0).cells.map((c, channel) => ({
              channel,
              offset: c.offset + c.trayG * c.scale,
              scale: c.scale,
            })),
          },
        ],
      }),
      createLogger('silent'),
    );
    await agent.start();
    await waitFor(() => agent.shelves.size === 1 && agent.ready, 20_000, { what: 'agent ready' });
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    await killAll();
    process.umask(umask);
  });

  it('[private files] shelfsense central --config: data dir 0700; central.db, users.db (with -wal, -shm) and secrets 0600', () => {
    const files = readdirSync(dataDir);
    for (const f of ['central.db', 'users.db', 'token-secret', 'central-service.secret']) {
      expect(files).toContain(f);
    }
    // Central holds both databases open in WAL mode: their -wal and -shm exist now.
    for (const db of ['central.db', 'users.db']) {
      for (const suffix of ['', '-wal', '-shm']) {
        expect(modeOf(join(dataDir, `${db}${suffix}`)), `${db}${suffix}`).toBe('0600');
      }
    }
    expect(modeOf(join(dataDir, 'token-secret'))).toBe('0600');
    expect(modeOf(dataDir)).toBe('0700');
    // A missing parent is created private too.
    expect(modeOf(join(dir, 'var'))).toBe('0700');
    // And nothing else in there is left open either (lane settings revisions, …).
    expect(notPrivate(modesUnder(dataDir), dataDir)).toEqual({});
  });

  it('[private files] a real agent: state dir 0700; outbox, counts, calibration and lane settings 0600', async () => {
    await waitFor(() => existsSync(join(stateDir, 'lane-settings.json')), 20_000, {
      what: 'lane settings from central',
    });
    // A technician's tare writes the shelf's calibration file.
    const tech = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqtt}`, {
      username: 'tech',
      password: 'tech-password-1',
    });
    try {
      const replies: Record<string, unknown>[] = [];
      tech.on('message', (_t, p) => replies.push(JSON.parse(p.toString())));
      await tech.subscribeAsync('shelfsense/v1/store-1/agents/pi-1/response/+', { qos: 1 });
      await tech.publishAsync(
        'shelfsense/v1/store-1/agents/pi-1/request/tare',
        JSON.stringify({ transaction: 'fm-tare', args: { shelf: 'shelf-1', lane: 'L0' } }),
        { qos: 1 },
      );
      const reply = await waitFor(() => replies.find((r) => r.transaction === 'fm-tare'), 30_000, {
        what: 'the tare reply',
      });
      expect(reply.status).toBe('ok');
    } finally {
      await tech.endAsync();
    }
    await waitFor(
      () =>
        existsSync(join(stateDir, 'counts', `${SERIAL}.json`)) &&
        existsSync(join(stateDir, 'calibration', `${SERIAL}.json`)),
      20_000,
      { what: 'counts and calibration on disk' },
    );
    const modes = modesUnder(stateDir);
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        'outbox',
        'outbox/outbox.lock',
        'outbox/outbox.meta.json',
        'lane-settings.json',
        'counts',
        `counts/${SERIAL}.json`,
        'calibration',
        `calibration/${SERIAL}.json`,
      ]),
    );
    expect(Object.keys(modes).some((p) => SEGMENT.test(p))).toBe(true);
    expect(notPrivate(modes, stateDir)).toEqual({});
    expect(modeOf(join(dir, 'var', 'agent'))).toBe('0700');
  }, 60_000);

  it('[private files] shelfsense users add on a new data dir: dir 0700, users.db and token-secret 0600', () => {
    const fresh = join(dir, 'users-first');
    addUser(fresh, 'admin', ['--role', 'admin'], 'admin-password-1');
    expect(modeOf(fresh)).toBe('0700');
    expect(modeOf(join(fresh, 'users.db'))).toBe('0600');
    expect(modeOf(join(fresh, 'token-secret'))).toBe('0600');
    expect(notPrivate(modesUnder(fresh), fresh)).toEqual({});
  });

  it('[private files] a database an earlier version left 0644, with its -wal and -shm, is 0600 once opened; the existing dir keeps its mode', () => {
    const old = join(dir, 'earlier');
    mkdirSync(old);
    chmodSync(old, 0o755);
    const file = join(old, 'central.db');
    // An earlier version's process, killed while it held the file open: the -wal and -shm stay.
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1]);
      db.pragma('journal_mode = WAL');
      db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('kept')");
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', script, file], { cwd: ROOT });
    for (const suffix of ['', '-wal', '-shm']) expect(modeOf(`${file}${suffix}`)).toBe('0644');

    const db = openDatabase(file, { migrations: [] });
    try {
      for (const suffix of ['', '-wal', '-shm']) expect(modeOf(`${file}${suffix}`), suffix).toBe('0600');
      expect(db.prepare('SELECT x FROM t').pluck().get()).toBe('kept');
    } finally {
      db.close();
    }
    expect(modeOf(old)).toBe('0755');
  });

  it('[private files] shelfsense demo --dir: the demo dir, central and agent dirs 0700; databases and secrets 0600', async () => {
    const demoDir = join(dir, 'demo');
    demo = shelfsense(['demo', '--http-port', '0', '--mqtt-port', '0', '--speed', '20', '--dir', demoDir]);
    await demo.waitForJson<{ ready: boolean }>((o) => o.ready === true, 60_000);
    await waitFor(() => existsSync(join(demoDir, 'agent', 'lane-settings.json')), 20_000, {
      what: "the demo agent's lane settings",
    });
    // Node-RED writes its own files in its userDir, inside central's private dir.
    const modes = modesUnder(demoDir, ['central/node-red']);
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        'central',
        'central/central.db',
        'central/central.db-wal',
        'central/central.db-shm',
        'central/users.db',
        'central/users.db-wal',
        'central/users.db-shm',
        'central/token-secret',
        'agent',
        'agent/outbox',
        'agent/lane-settings.json',
      ]),
    );
    expect(notPrivate(modes, demoDir)).toEqual({});
    await demo.kill('SIGINT', 20_000);
  }, 120_000);
});
