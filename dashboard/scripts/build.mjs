#!/usr/bin/env node
// Bundles the dashboard (web/) with esbuild into dist/public/: index.html, app.js, app.css and
// uPlot.min.css, each with a gzip twin, plus assets.json (content hashes used as `?v=` so the
// server can let browsers cache them for good). Nothing is loaded from a CDN.
//
//   node scripts/build.mjs [--dev] [--out DIR]
//     --dev: no minification, inline source maps; --out: another output directory (tests)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { zodEnglishOnly } from '../../scripts/esbuild-zod-english.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(pkg, 'web');
const dev = process.argv.includes('--dev');
const outFlag = process.argv.indexOf('--out');
const out =
  outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(pkg, 'dist', 'public');
const require = createRequire(import.meta.url);

/**
 * The contract package also holds Node-only config loading and private-file helpers (node:*,
 * yaml) that the browser never calls. Each such module is replaced by one exporting every name
 * the real module has, each throwing if called. (zod's locales: see zodEnglishOnly.)
 */
const browserStubs = {
  name: 'browser-stubs',
  setup(build) {
    build.onResolve({ filter: /^(node:.*|yaml)$/ }, (a) => ({ path: a.path, namespace: 'stub' }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, async (a) => {
      const names = Object.keys(await import(a.path)).filter(
        (n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n),
      );
      const why = JSON.stringify(`${a.path} is not available in the browser`);
      return {
        contents: [
          `const unavailable = () => { throw new Error(${why}); };`,
          ...names.map((n) => `export const ${n} = unavailable;`),
          'export default {};',
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 12);

/** Replaces a file in one step, so a server reading it meanwhile sees the old or the new one. */
function replace(path, buf) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, buf);
  renameSync(tmp, path);
}

function emit(name, contents, gzip = true) {
  const buf = Buffer.isBuffer(contents) ? contents : Buffer.from(contents);
  if (gzip) replace(join(out, `${name}.gz`), gzipSync(buf, { level: 9 }));
  replace(join(out, name), buf);
  return hash(buf);
}

export async function build() {
  mkdirSync(out, { recursive: true });

  const result = await esbuild.build({
    entryPoints: { app: join(web, 'main.tsx'), 'app-style': join(web, 'app.css') },
    bundle: true,
    write: false,
    outdir: out,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    conditions: ['source', 'browser', 'import'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
    plugins: [browserStubs, zodEnglishOnly],
    logLevel: 'warning',
    metafile: true,
  });

  const hashes = {};
  for (const f of result.outputFiles) {
    const name = f.path.endsWith('.js') ? 'app.js' : f.path.endsWith('.css') ? 'app.css' : null;
    if (name) hashes[name] = emit(name, f.contents);
  }
  hashes['uPlot.min.css'] = emit('uPlot.min.css', readFileSync(require.resolve('uplot/dist/uPlot.min.css')));

  const html = readFileSync(join(web, 'index.html'), 'utf8')
    .replace('%APP_JS_HASH%', hashes['app.js'])
    .replace('%APP_CSS_HASH%', hashes['app.css'])
    .replace('%UPLOT_CSS_HASH%', hashes['uPlot.min.css']);
  emit('index.html', html, false);
  replace(join(out, 'assets.json'), `${JSON.stringify(hashes, null, 2)}\n`);

  const sizes = Object.keys(hashes).map((n) => {
    const size = readFileSync(join(out, n)).length;
    return `${n} ${(size / 1024).toFixed(1)} kB`;
  });
  return { out, sizes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  build().then(
    ({ out: dir, sizes }) => process.stdout.write(`dashboard built in ${dir}: ${sizes.join(', ')}\n`),
    (err) => {
      process.stderr.write(`dashboard build failed: ${err.message ?? err}\n`);
      process.exit(1);
    },
  );
}
