/**
 * The version every Shelfsense command prints with `--version`: this package's package.json, the
 * one place it is written. Every package is released at the root's version (scripts/release.mjs
 * checks it), so the contract's is every command's. The agent bundle replaces this module with the same value read at build time
 * (agent/scripts/bundle.mjs), as the bundle carries no package.json beside it.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function shelfsenseVersion(): string {
  if (cached === undefined) {
    // ../package.json from src/ and from dist/ alike.
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    cached = pkg.version;
  }
  return cached;
}
