'use strict';
// Preloaded into the agent and central processes of a soak run (NODE_OPTIONS=--require=<this file>;
// a script, so that it does not load Node's ES module loader into the CommonJS agent bundle):
// on SIGUSR2 it runs a full garbage collection and appends the memory figures right after it, one
// JSON line, to the file named by SHELFSENSE_SOAK_MEM. Memory read straight after a forced GC is
// what the process really holds, not garbage the collector has not got round to.
const { appendFileSync } = require('node:fs');
const { setFlagsFromString } = require('node:v8');
const { runInNewContext } = require('node:vm');

const file = process.env.SHELFSENSE_SOAK_MEM;
if (file) {
  setFlagsFromString('--expose-gc');
  const gc = globalThis.gc ?? runInNewContext('gc');
  process.on('SIGUSR2', () => {
    const t0 = performance.now();
    gc();
    gc();
    const m = process.memoryUsage();
    const line = {
      pid: process.pid,
      ts: Date.now(),
      gcMs: Math.round((performance.now() - t0) * 10) / 10,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  });
}
