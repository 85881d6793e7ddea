#!/usr/bin/env node
// `npm run soak`: builds the compiled JavaScript the agent and central processes run (the agent
// bundled, as its systemd unit runs it), then runs the soak driver (tests/soak/soak.ts) with tsx: a
// simulated store week on the real chain, judged for leaks, lost readings, exact counts and one
// order per need. Flags go to the driver (--help lists
// them); the result is recorded in docs/reliability.md unless --no-docs is given.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

if (!args.includes('--help')) {
  // The packages' JavaScript, and the bundled agent its systemd unit runs.
  for (const [cmd, argv] of [
    ['npx', ['tsc', '-b', 'tsconfig.build.json']],
    [process.execPath, ['agent/scripts/bundle.mjs']],
  ]) {
    const build = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) {
      console.error(`soak: the build failed (${[cmd, ...argv].join(' ')})`);
      process.exit(build.status ?? 1);
    }
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', 'tests/soak/soak.ts', ...args], {
  cwd: root,
  stdio: 'inherit',
});
const forward = (signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
