/**
 * `shelfsense bench`: the benchmarks measure several parts side by side (agent, broker, central
 * pipeline, Mosquitto, Node-RED), so they run from a source checkout, where `scripts/bench.mjs` is.
 * This package is private to the checkout: no install carries it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/bench.mjs', import.meta.url));

/** @type {Record<string, import('@shelfsense/protocol/cli').Subcommand>} */
export const commands = {
  bench: {
    name: 'bench',
    summary: 'run the benchmarks',
    run: async (argv) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(
          'Usage: shelfsense bench [agent|broker|pipeline|catalogue|cluster] [options]\n\n' +
            'Runs the benchmarks (from a source checkout) and writes docs/benchmarks.md.\n' +
            'Same as `npm run bench -- …`; see docs/benchmarks.md for the options.\n\n' +
            '  -V, --version  print the Shelfsense version and exit\n',
        );
        return 0;
      }
      const r = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' });
      return r.status ?? 1;
    },
  },
};
