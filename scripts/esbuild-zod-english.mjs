// An esbuild plugin for the bundles that carry zod (the dashboard, the agent): zod's barrel of ~40
// locales is replaced by English alone, ~250 kB less to load. zod keeps working in English.
import { dirname, join } from 'node:path';

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (a) =>
      /[\\/]zod[\\/]/.test(a.resolveDir)
        ? { path: join(a.resolveDir, '..', 'locales', 'en.js'), namespace: 'zod-en' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-en' }, (a) => ({
      contents: `export { default as en } from ${JSON.stringify(a.path)};`,
      loader: 'js',
      resolveDir: dirname(a.path),
    }));
  },
};
