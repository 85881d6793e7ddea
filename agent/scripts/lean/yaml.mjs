// `yaml` as the agent bundle carries it: the real package, bundled on its own into
// dist/bundle/yaml.cjs, loaded for the one parse the agent makes (its config file, at start) and let
// go afterwards. Kept loaded, its code and objects are ≈ 1.5 MB of a running agent's memory.
import { createRequire } from 'node:module';

export function parse(text, options) {
  // A fresh require each time: the module it loads is the child of this require's own parent
  // module, and with both dropped (and the cache entry deleted) nothing holds on to it.
  const require = createRequire(import.meta.url);
  const file = require.resolve('./bundle/yaml.cjs');
  try {
    return require(file).parse(text, options);
  } finally {
    delete require.cache[file];
  }
}
