#!/usr/bin/env node
// `npm run check:fresh`: the README's two commands on a fresh machine. Builds a minimal Debian root
// with debootstrap (from the mirror apt uses here) holding only a C++ toolchain and python3, puts
// the official Node 24 LTS build and the registry's npm in it, copies this working tree in, and inside a chroot (in its own mount and PID
// namespaces, so nothing outlives it) runs `npm ci`, `npm start` until the dashboard answers, and
// `npm test`. Prints each step's time and the test command's closing line. Needs root.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { placeSection, sectionBlock } from './bench-doc.mjs';
import { ensureNode } from './node-runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HELP = `usage: npm run check:fresh [-- options]

Runs the README's two commands (npm ci && npm start, then npm test) in a minimal Debian root built
with debootstrap, with Node 24 LTS and npm installed in it and this working tree copied in.
Needs root (debootstrap, chroot, unshare); installs debootstrap with apt when missing.

options:
  --node 24|22       the Node LTS line to install in the root (default 24)
  --suite NAME       the Debian suite (default bookworm)
  --mirror URL       the Debian mirror (default: the first one apt uses here)
  --rebuild-base     build the cached base root again
  --keep             keep the root after the run (its path is printed)
  --skip-test        stop after npm start (no npm test)
  --no-docs          do not record the result in docs/reliability.md
  -h, --help         this help

The base root is cached in ~/.cache/shelfsense/fresh (SHELFSENSE_FRESH_CACHE overrides); each run
works on a copy of it under .tmp/fresh. A run that reaches npm test records its table in
docs/reliability.md (section "Fresh machine").
`;

function parseArgs(argv) {
  const o = {
    node: '24',
    suite: 'bookworm',
    mirror: null,
    rebuild: false,
    keep: false,
    skipTest: false,
    docs: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${a} needs a value (see --help)`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (a === '--node') o.node = value();
    else if (a === '--suite') o.suite = value();
    else if (a === '--mirror') o.mirror = value();
    else if (a === '--rebuild-base') o.rebuild = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--skip-test') o.skipTest = true;
    else if (a === '--no-docs') o.docs = false;
    else fail(`unknown option ${a} (see --help)`);
  }
  if (!['22', '24'].includes(o.node)) fail(`--node must be 22 or 24, not ${o.node}`);
  if (!/^[a-z]+$/.test(o.suite)) fail(`--suite must be a Debian suite name, not ${o.suite}`);
  return o;
}

function fail(msg) {
  process.stderr.write(`check:fresh: ${msg}\n`);
  process.exit(2);
}

function aptMirror() {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(f)) continue;
    const m =
      /^URIs:\s*(\S+)/m.exec(readFileSync(f, 'utf8')) ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(readFileSync(f, 'utf8'));
    if (m) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

const steps = [];
function step(name, fn) {
  process.stderr.write(`\n== ${name}\n`);
  const t0 = Date.now();
  const result = fn();
  const s = (Date.now() - t0) / 1000;
  steps.push({ name, s, result: result ?? 'ok' });
  process.stderr.write(`== ${name}: ${result ?? 'ok'} in ${s.toFixed(1)} s\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

/** A shell that runs `script` in the root, in new mount and PID namespaces (and a new network one with `isolatedNet`). */
function chrootArgs(rootfs, script, { isolatedNet = false } = {}) {
  const inner = [
    'set -e',
    'mount --make-rprivate /',
    `mount -t proc proc ${rootfs}/proc`,
    `mount -t sysfs sys ${rootfs}/sys`,
    `mount --rbind /dev ${rootfs}/dev`,
    `mount -t tmpfs tmpfs ${rootfs}/tmp`,
    `mount -t tmpfs tmpfs ${rootfs}/dev/shm`,
    isolatedNet ? 'ip link set lo up' : 'true',
    `exec chroot ${rootfs} /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c ${shellQuote(script)}`,
  ].join('\n');
  return ['--mount', '--pid', '--fork', ...(isolatedNet ? ['--net'] : []), 'bash', '-c', inner];
}

/** Runs `command` in the project's folder in the root, its output shown and kept in /root/<logName>. */
function inRoot(rootfs, command, logName) {
  const script = `set -o pipefail; cd /root/shelfsense && ${command} 2>&1 | tee /root/${logName}`;
  run('unshare', chrootArgs(rootfs, script));
  return readFileSync(join(rootfs, 'root', logName), 'utf8');
}

function shellQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) fail('needs root (debootstrap, chroot and unshare): run it as root');
  const t0 = Date.now();
  const cache = process.env.SHELFSENSE_FRESH_CACHE ?? join(homedir(), '.cache', 'shelfsense', 'fresh');
  const base = join(cache, `${o.suite}-minbase`);
  const work = join(root, '.tmp', 'fresh');
  const rootfs = join(work, 'root');
  const mirror = o.mirror ?? aptMirror();
  lock(join(root, '.tmp', 'check-fresh.lock'));

  step('debootstrap present', () => {
    if (existsSync('/usr/sbin/debootstrap')) return 'present';
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'debootstrap'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return 'installed';
  });

  step(`base root (${o.suite}, minbase + g++ make python3)`, () => {
    if (!o.rebuild && existsSync(join(base, '.shelfsense-complete'))) return 'cached';
    rmSync(base, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    run('debootstrap', [
      '--variant=minbase',
      '--include=ca-certificates,python3,make,g++',
      o.suite,
      base,
      mirror,
    ]);
    writeFileSync(join(base, '.shelfsense-complete'), `${new Date().toISOString()} ${mirror}\n`);
    return 'built';
  });

  step('copy of the base root', () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    run('cp', ['-a', base, rootfs]);
    cpSync('/etc/resolv.conf', join(rootfs, 'etc', 'resolv.conf'), { dereference: true });
    // This machine's network trust: its CA certificates, and npm told to use the system bundle.
    for (const crt of readdirSync('/usr/local/share/ca-certificates'))
      cpSync(
        join('/usr/local/share/ca-certificates', crt),
        join(rootfs, 'usr/local/share/ca-certificates', crt),
      );
    run('chroot', [rootfs, 'update-ca-certificates']);
    // npm's global config for a Node under /usr is /usr/etc/npmrc.
    mkdirSync(join(rootfs, 'usr', 'etc'), { recursive: true });
    writeFileSync(
      join(rootfs, 'usr', 'etc', 'npmrc'),
      'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n',
    );
    const hosts = join(rootfs, 'etc', 'hosts');
    if (!existsSync(hosts))
      writeFileSync(hosts, '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');
  });

  const prefix = ensureNode(o.node);
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  step(`Node ${o.node} LTS and npm ${npmVersion} installed in the root`, () => {
    // The official build's binary and the registry's npm, nothing else.
    cpSync(join(prefix, 'bin', 'node'), join(rootfs, 'usr', 'bin', 'node'));
    const lib = join(rootfs, 'usr', 'lib', 'node_modules');
    mkdirSync(lib, { recursive: true });
    const tgz = execFileSync('npm', ['pack', `npm@${npmVersion}`, '--silent', '--pack-destination', work], {
      encoding: 'utf8',
    }).trim();
    run('tar', ['-xzf', join(work, tgz), '-C', lib]);
    run('mv', [join(lib, 'package'), join(lib, 'npm')]);
    run('ln', ['-sf', '../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr', 'bin', 'npm')]);
    run('ln', ['-sf', '../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr', 'bin', 'npx')]);
    // node-gyp downloads the headers of the running Node from nodejs.org, which this machine cannot
    // reach: put them where that download would land (its cache, stamped with its layout version).
    const gypPkg = '/usr/lib/node_modules/npm/node_modules/node-gyp/package.json';
    const installVersion = JSON.parse(readFileSync(join(rootfs, gypPkg), 'utf8')).installVersion;
    const version = execFileSync(join(prefix, 'bin', 'node'), ['-p', 'process.versions.node'], {
      encoding: 'utf8',
    }).trim();
    const devDir = join(rootfs, 'root', '.cache', 'node-gyp', version);
    cpSync(join(prefix, 'include'), join(devDir, 'include'), { recursive: true });
    writeFileSync(join(devDir, 'installVersion'), `${installVersion}\n`);
    return execFileSync('chroot', [rootfs, '/usr/bin/node', '--version'], { encoding: 'utf8' }).trim();
  });

  step('working tree copied to /root/shelfsense', () => {
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root });
    const dest = join(rootfs, 'root', 'shelfsense');
    mkdirSync(dest, { recursive: true });
    const tar = spawnSync('tar', ['--null', '-T', '-', '-cf', '-'], {
      cwd: root,
      input: files,
      maxBuffer: 1 << 30,
    });
    if (tar.status !== 0) throw new Error('tar of the working tree failed');
    const untar = spawnSync('tar', ['-xf', '-', '-C', dest], { input: tar.stdout });
    if (untar.status !== 0) throw new Error('untar of the working tree failed');
    return `${files.toString().split('\0').filter(Boolean).length} files`;
  });

  step('npm ci', () => {
    const log = inRoot(rootfs, 'npm ci', 'ci.log');
    const warnings = log.split('\n').filter((l) => /^npm warn/i.test(l));
    return `${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
  });

  step('npm start (until the dashboard answers)', () => {
    // Its own network namespace, so the demo's fixed ports cannot meet anything on this machine.
    const script = [
      'cd /root/shelfsense',
      '(npm start > /tmp/start.log 2>&1 &)',
      'for i in $(seq 1 600); do grep -q "Shelfsense demo is running" /tmp/start.log && break; sleep 0.5; done',
      'grep -q "Shelfsense demo is running" /tmp/start.log || { cat /tmp/start.log; exit 1; }',
      `node -e ${shellQuote(
        "fetch('http://127.0.0.1:8080/').then(async (r) => { const t = await r.text(); if (!r.ok || !t.includes('<html')) process.exit(1); console.log('dashboard', r.status, t.length, 'bytes'); }, (e) => { console.error(e); process.exit(1); })",
      )}`,
      'grep -m1 -A3 "Dashboard:" /tmp/start.log || true',
    ].join('\n');
    run('unshare', chrootArgs(rootfs, script, { isolatedNet: true }));
    return 'dashboard answered';
  });

  let closing = 'not run';
  if (!o.skipTest) {
    step('npm test', () => {
      let log = '';
      try {
        log = inRoot(rootfs, 'npm test', 'test.log');
      } catch (err) {
        log = readFileSync(join(rootfs, 'root', 'test.log'), 'utf8');
        process.stderr.write(`${err.message}\n`);
      }
      closing =
        log
          .trim()
          .split('\n')
          .filter((l) => /^\d+ passed, \d+ failed$/.test(l))
          .pop() ?? 'no closing line';
      return closing;
    });
  }

  if (!o.keep) rmSync(work, { recursive: true, force: true });
  const total = (Date.now() - t0) / 1000;
  const table = [
    '| step | time | result |',
    '| --- | ---: | --- |',
    ...steps.map((s) => `| ${s.name} | ${s.s.toFixed(1)} s | ${s.result} |`),
    `| total | ${total.toFixed(1)} s | |`,
  ];
  const lines = [
    '',
    `check:fresh — Debian ${o.suite} (debootstrap minbase), Node ${o.node} LTS, ${new Date().toISOString()}`,
    ...table,
    '',
    closing,
  ];
  if (o.docs && !o.skipTest) record(o, table, closing);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (o.keep) process.stdout.write(`root kept at ${rootfs}\n`);
  return /^\d+ passed, 0 failed$/.test(closing) || o.skipTest ? 0 : 1;
}

/** One run at a time: a second would remove the root the first one is testing in. */
function lock(file) {
  mkdirSync(dirname(file), { recursive: true });
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    process.kill(pid, 0);
    fail(`another check:fresh is running (pid ${pid}); wait for it to end`);
  } catch (err) {
    if (err.code !== 'ENOENT' && err.code !== 'ESRCH') throw err;
  }
  writeFileSync(file, String(process.pid));
  process.on('exit', () => rmSync(file, { force: true }));
}

/** Writes the run's table into docs/reliability.md between its markers. */
function record(o, table, closing) {
  const doc = join(root, 'docs', 'reliability.md');
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' plus uncommitted changes' : '';
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const header =
    `Recorded ${when} UTC, commit ${git('rev-parse', '--short', 'HEAD')}${dirty}: Debian ${o.suite} ` +
    `(debootstrap minbase with g++, make, python3), Node ${o.node} LTS official build, npm from the ` +
    'registry, on a 2-core machine. Reproduce: `npm run check:fresh`.';
  const output = [...table, '', `Closing line of \`npm test\` in the root: **${closing}**`].join('\n');
  const section = { name: 'fresh', title: 'Fresh machine' };
  writeFileSync(doc, placeSection(readFileSync(doc, 'utf8'), section, sectionBlock('fresh', header, output)));
  process.stderr.write(`check:fresh: recorded in ${doc}\n`);
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`check:fresh: ${err.message}\n`);
  process.exitCode = 1;
}
