#!/usr/bin/env node
/**
 * `shelfsense-agent`: the agent on its own, the same command as `shelfsense agent`. This is what a
 * Raspberry Pi runs: the build bundles it with its dependencies into dist/shelfsense-agent.cjs (see
 * scripts/bundle.mjs), which loads in a fraction of the memory of the module tree.
 */
import { commands } from './cli.js';

commands.agent!.run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`shelfsense agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
