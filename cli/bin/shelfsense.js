#!/usr/bin/env node
// The `shelfsense` command as npm links it. npm links a workspace's bins during `npm ci`, before
// anything is compiled, and skips a bin whose file is missing — so the bin is this committed
// launcher, which loads the compiled dispatcher and says what to run when it is not built yet.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'shelfsense: not built yet (cli/dist/main.js is missing); run `npm run build` in the Shelfsense checkout first\n',
  );
  process.exit(2);
}
await import(main.href);
