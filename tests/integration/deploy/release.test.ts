/**
 * Releases (docs/releasing.md): every workspace shares the root's version and names the others at
 * it, CHANGELOG.md has a section for it (dated for a release), and `release.mjs bump` moves all of
 * it — versions, references between workspaces, the lock file — to a new version at once.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts/release.mjs');

interface Pkg {
  name: string;
  version: string;
  workspaces?: string[];
  [field: string]: unknown;
}

const readPkg = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Pkg;
const rootPkg = readPkg(join(ROOT, 'package.json'));

/** npm's variables from an `npm test` run would point a nested npm at this repository. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

async function release(args: string[], cwd = ROOT) {
  try {
    const r = await run(process.execPath, [SCRIPT, ...args], { cwd, env: cleanEnv(), timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The manifests of this checkout (root, lock, every workspace's package.json) and a changelog. */
function copyManifests(changelog: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-release-'));
  dirs.push(dir);
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(join(ROOT, f), join(dir, f));
  for (const w of rootPkg.workspaces ?? []) {
    mkdirSync(join(dir, w), { recursive: true });
    cpSync(join(ROOT, w, 'package.json'), join(dir, w, 'package.json'));
  }
  writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
  return dir;
}

const changelogFor = (version: string, when = '2026-12-01') =>
  `# Changelog\n\n## [${version}] - ${when}\n\n### Added\n- Something.\n`;

describe('release checks', () => {
  it('[RELEASE-AGREE] this checkout: every workspace has the root version, and CHANGELOG.md its section', async () => {
    const r = await release(['check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`version ${rootPkg.version}`);
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    // Keep a Changelog: the newest section first, each version once.
    const versions = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toContain(rootPkg.version);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} Shelfsense contributors$/m,
    );
    expect(rootPkg.license).toBe('MIT');
  });

  it('[RELEASE-MISMATCH] names a workspace of another version, a stale reference, a missing section', async () => {
    const dir = copyManifests(changelogFor('9.9.9'));
    const agentFile = join(dir, 'agent/package.json');
    const agent = readPkg(agentFile);
    writeFileSync(agentFile, JSON.stringify({ ...agent, version: '0.0.1' }, null, 2));
    const cliFile = join(dir, 'cli/package.json');
    const cli = readPkg(cliFile) as Pkg & { dependencies: Record<string, string> };
    cli.dependencies['@shelfsense/protocol'] = '^0.0.1';
    writeFileSync(cliFile, JSON.stringify(cli, null, 2));
    const r = await release(['check', '--root', dir]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain(`agent/package.json: version 0.0.1, the root's is ${rootPkg.version}`);
    expect(lines).toContain(
      `cli/package.json: dependencies.@shelfsense/protocol is "^0.0.1", not ${rootPkg.version}`,
    );
    expect(lines).toContain(`CHANGELOG.md: no "## [${rootPkg.version}]" section`);
    expect(lines).toHaveLength(3);
  });

  it('[RELEASE-DATED] a version still Unreleased, or a section with no changes, may not be tagged', async () => {
    const v = rootPkg.version;
    const unreleased = copyManifests(`# Changelog\n\n## [${v}] - Unreleased\n\n### Added\n- Something.\n`);
    expect((await release(['check', '--root', unreleased])).code).toBe(0);
    const r = await release(['check', '--release', '--root', unreleased]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`CHANGELOG.md: [${v}] has no release date`);
    const empty = copyManifests(`# Changelog\n\n## [${v}] - 2026-12-01\n\n## [0.0.1] - 2026-01-01\n- Old.\n`);
    const e = await release(['check', '--release', '--root', empty]);
    expect(e.code).toBe(1);
    expect(e.stderr.trim()).toBe(`CHANGELOG.md: [${v}] lists no changes`);
    const dated = copyManifests(changelogFor(v));
    expect((await release(['check', '--release', '--root', dated])).code).toBe(0);
    // The images compose.yaml builds carry the version too.
    writeFileSync(
      join(dated, 'compose.yaml'),
      'services:\n  central:\n    image: shelfsense-central:0.0.9\n',
    );
    const images = await release(['check', '--release', '--root', dated]);
    expect(images.code).toBe(1);
    expect(images.stderr.trim()).toBe(`compose.yaml: image shelfsense-central:0.0.9, not ${v}`);
    expect((await release(['check', '--root', dated])).code).toBe(0);
  });

  it('[RELEASE-BUMP] bump sets the version, the references between workspaces and the lock file', async () => {
    const dir = copyManifests(changelogFor('7.8.9'));
    cpSync(join(ROOT, 'compose.yaml'), join(dir, 'compose.yaml'));
    const r = await release(['bump', '7.8.9', '--root', dir], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('version 7.8.9');
    const names = new Set<string>();
    for (const w of rootPkg.workspaces ?? []) {
      const pkg = readPkg(join(dir, w, 'package.json'));
      expect(pkg.version, w).toBe('7.8.9');
      names.add(pkg.name);
    }
    for (const w of rootPkg.workspaces ?? []) {
      const pkg = readPkg(join(dir, w, 'package.json'));
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
        for (const [name, range] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
          if (names.has(name)) expect(range, `${w} ${field}.${name}`).toBe('7.8.9');
        }
      }
    }
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
      version: string;
      packages: Record<string, { version?: string }>;
    };
    expect(lock.version).toBe('7.8.9');
    for (const w of rootPkg.workspaces ?? []) expect(lock.packages[w]?.version, w).toBe('7.8.9');
    const images = [...readFileSync(join(dir, 'compose.yaml'), 'utf8').matchAll(/image: (shelfsense-\S+)/g)];
    expect(images.length).toBeGreaterThan(0);
    for (const m of images) expect(m[1]).toMatch(/:7\.8\.9$/);
    expect((await release(['check', '--release', '--root', dir])).code).toBe(0);
    // Only the copy moved: this checkout keeps its version.
    expect(readPkg(join(ROOT, 'package.json')).version).toBe(rootPkg.version);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  }, 120_000);
});
