#!/usr/bin/env node
// Bundles the compiled agent (dist/main.js, after `tsc -b`) and its dependencies into one file,
// dist/shelfsense-agent.cjs, which is what a Raspberry Pi runs (deploy/shelfsense-agent.service).
// One file loads in ~6 MB less memory than the tree of ~400 modules, and `leanImports` below keeps
// out what the agent never runs (zod is zod/mini with English alone, see protocol/src/zod.ts).
// serialport's binding layer (@serialport/bindings-cpp) is bundled in the serial chunk but for its
// native binary, which node-gyp-build loads from the installed package (prebuilt), so the agent
// package keeps that dependency.
//
//   node agent/scripts/bundle.mjs
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Imports narrowed to what the agent uses; each of these loaded code (and Node built-ins) the agent
 * never runs, together ≈ 3 MB of its resident memory (docs/benchmarks.md):
 * - `prom-client` → its Registry, Gauge, Counter and default metrics (the index also loads cluster
 *   aggregation, the push gateway and OpenTelemetry exemplars);
 * - `readable-stream` (mqtt.js) → node:stream, which it mirrors;
 * - `worker-timers` (mqtt.js, for browser tabs) → a stub: on Node, mqtt.js uses native timers;
 * - `thread-stream` (pino's transports, run in worker threads) → a stub that says so: the agent logs
 *   through pino.destination;
 * - `worker_threads` in pino's tools → `isMainThread: true`, all pino reads of it (the agent has no
 *   worker threads). With thread-stream stubbed, this keeps node:worker_threads out of memory;
 * - `debug` (mqtt.js, mqtt-packet) → scripts/lean/debug.cjs: the same loggers and
 *   DEBUG variable, printed without colours (the package loads node:tty for them);
 * - `lru-cache` (mqtt.js's topic aliases) → scripts/lean/lru-cache.cjs, the part mqtt.js uses (the
 *   package reads `performance` on load, which loads node:perf_hooks and ten modules behind it).
 * - in `@serialport/bindings-cpp`: its native addon is loaded from the installed package (its
 *   loader looks next to its own file, which is in the bundle now), and its Linux port lister
 *   (node:child_process, a readline parser and `udevadm`, ≈ 2.5 MB) is loaded only if discovery
 *   finds no sysfs: the agent lists ports itself from sysfs and /dev/serial
 *   (src/source/port-list.ts, node:fs alone);
 * - `yaml` → scripts/lean/yaml.mjs, which loads the real package from dist/bundle/yaml.cjs for the
 *   config file's one parse at start and lets it go (≈ 1.5 MB of memory otherwise);
 * - the protocol's version module → the version it would read from its package.json, inlined.
 * tests/unit/agent/lean-modules.test.ts holds the debug and lru-cache stand-ins to the packages'
 * behaviour.
 */
const LEAN = {
  'prom-client': [
    "export { default as Registry } from 'prom-client/lib/registry.js';",
    "export { default as Gauge } from 'prom-client/lib/gauge.js';",
    "export { default as Counter } from 'prom-client/lib/counter.js';",
    "export { default as collectDefaultMetrics } from 'prom-client/lib/defaultMetrics.js';",
  ].join(' '),
  'worker-timers':
    "const no = () => { throw new Error('worker-timers are for browsers'); }; export { no as setInterval, no as clearInterval, no as setTimeout, no as clearTimeout };",
  'pino-main-thread': 'export const isMainThread = true;',
  'serialport-native':
    "const { dirname } = require('node:path'); const load = require('node-gyp-build'); exports.binding = load(dirname(require.resolve('@serialport/bindings-cpp/package.json')));",
  'serialport-list':
    "exports.linuxList = (...args) => require('@serialport/bindings-cpp/dist/linux-list.js').linuxList(...args);",
  'thread-stream':
    "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not part of the agent bundle: it logs to stderr'); } };",
};
const leanImports = {
  name: 'lean-imports',
  setup(build) {
    build.onResolve({ filter: /^(prom-client|worker-timers|thread-stream)$/ }, (a) => ({
      path: a.path,
      namespace: 'lean',
    }));
    build.onLoad({ filter: /.*/, namespace: 'lean' }, (a) => ({
      contents: LEAN[a.path],
      loader: 'js',
      resolveDir: pkg,
    }));
    build.onResolve({ filter: /^worker_threads$/ }, (a) =>
      /[\\/]pino[\\/]lib[\\/]tools\.js$/.test(a.importer)
        ? { path: 'pino-main-thread', namespace: 'lean' }
        : undefined,
    );
    const bindingsDist = /[\\/]@serialport[\\/]bindings-cpp[\\/]dist[\\/][^\\/]+\.js$/;
    build.onResolve({ filter: /^\.\/(serialport-bindings|linux-list)$/ }, (a) =>
      bindingsDist.test(a.importer)
        ? { path: a.path === './linux-list' ? 'serialport-list' : 'serialport-native', namespace: 'lean' }
        : undefined,
    );
    // Resolved when the code runs, from the installed package: not bundled.
    build.onResolve({ filter: /^@serialport\/bindings-cpp\/(package\.json|dist\/linux-list\.js)$/ }, (a) => ({
      path: a.path,
      external: true,
    }));
    build.onResolve({ filter: /^(debug|lru-cache)$/ }, (a) => ({
      path: join(pkg, 'scripts', 'lean', `${a.path}.cjs`),
    }));
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: join(pkg, 'scripts', 'lean', 'yaml.mjs') }));
    // `--version` reads the protocol package's package.json, which no bundle carries beside it:
    // the bundle holds the same version, read from the same file now.
    build.onLoad({ filter: /[\\/]protocol[\\/]dist[\\/]version\.js$/ }, (a) => {
      const { version } = JSON.parse(readFileSync(join(dirname(a.path), '..', 'package.json'), 'utf8'));
      return {
        contents: `export function shelfsenseVersion() { return ${JSON.stringify(version)}; }`,
        loader: 'js',
      };
    });
    build.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'node:stream', external: true }));
  },
};

// The build goes to a staging directory beside dist (so the source maps' relative paths hold) and
// moves in file by file, chunks before the entry: an agent started from dist, or another build
// running at the same time, never finds a chunk missing or half written.
const dist = join(pkg, 'dist');
const stage = mkdtempSync(join(pkg, '.bundle-'));
process.on('exit', () => rmSync(stage, { recursive: true, force: true }));

// Two passes. esbuild splits code into chunks for ES modules only, but an ES-module entry makes
// Node load its ES module loader (a dozen modules of its own, and fs/promises and readline behind
// them: ≈ 1 MB of a running agent's resident memory). So the first pass bundles and splits as ES
// modules into a scratch directory, and the second turns each file into CommonJS next to the
// first's: static imports of chunks become require(), the dynamic import() of a chunk a require()
// when it is first asked for, and the source maps are chained back to the TypeScript.
const scratch = mkdtempSync(join(tmpdir(), 'shelfsense-agent-bundle-'));
try {
  const first = await esbuild.build({
    entryPoints: { 'shelfsense-agent': join(dist, 'main.js') },
    outdir: scratch,
    outExtension: { '.js': '.mjs' },
    // What the agent imports only when asked for (serial sources, the metrics endpoint, the TLS and
    // WebSocket transports) goes into chunks of its own, loaded then: nothing of it, nor the Node
    // built-ins it needs, is in memory otherwise.
    splitting: true,
    chunkNames: 'bundle/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    plugins: [leanImports],
    metafile: true,
    logLevel: 'warning',
  });
  for (const out of Object.keys(first.metafile.outputs)) {
    if (!out.endsWith('.mjs')) continue;
    const rel = relative(scratch, out);
    const file = join(scratch, rel);
    // Chunks are named the same in both passes, .cjs for .mjs. A chunk imported when first asked
    // for is required then: its exports object is its namespace, as the CommonJS pass writes it
    // (esbuild's own conversion of import() would wrap it as a foreign CommonJS module, whose
    // namespace's default is the whole exports object). The first pass's source map still holds
    // for every line (the rewrite shifts only the columns after an import() on its line).
    const text = readFileSync(file, 'utf8')
      .replace(/(["'])(\.\.?\/[^"'\n]+)\.mjs\1/g, '$1$2.cjs$1')
      .replace(
        /\bimport\((["'])(\.\.?\/[^"'\n]+\.cjs)\1\)/g,
        'Promise.resolve().then(() => require($1$2$1))',
      );
    if (/\bimport\(/.test(text))
      throw new Error(`${rel}: an import() the CommonJS pass cannot turn into require()`);
    writeFileSync(file, text);
    await esbuild.build({
      entryPoints: [file],
      outfile: join(stage, rel.replace(/\.mjs$/, '.cjs')),
      bundle: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // scripts/lean/yaml.mjs resolves the YAML chunk from the script's own location.
      define: { 'import.meta.url': '__shelfsenseUrl' },
      banner: text.includes('import.meta.url')
        ? { js: "var __shelfsenseUrl = require('node:url').pathToFileURL(__filename).href;" }
        : undefined,
      // Whitespace and syntax only: stack traces in the logs keep their function names.
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: 'linked',
      logLevel: 'warning',
    });
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// The YAML parser the agent loads for its config file and lets go (scripts/lean/yaml.mjs).
await esbuild.build({
  entryPoints: ['yaml'],
  outfile: join(stage, 'bundle', 'yaml.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// Into place; chunk names carry a content hash, so the last build's that this one has not are
// removed after the entry that no longer names them.
const built = readdirSync(join(stage, 'bundle'));
mkdirSync(join(dist, 'bundle'), { recursive: true });
for (const f of built) renameSync(join(stage, 'bundle', f), join(dist, 'bundle', f));
for (const f of readdirSync(stage, { withFileTypes: true }))
  if (f.isFile()) renameSync(join(stage, f.name), join(dist, f.name));
const keep = new Set(built);
for (const f of readdirSync(join(dist, 'bundle')))
  if (!keep.has(f)) rmSync(join(dist, 'bundle', f), { force: true });
