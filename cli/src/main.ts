#!/usr/bin/env node
import { dispatch } from './dispatch.js';

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`shelfsense: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
