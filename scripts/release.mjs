#!/usr/bin/env node
// Release checks and the version bump (docs/releasing.md). DIR: the checkout (default: this one).
//
//   node scripts/release.mjs check [--release] [--root DIR]
//     every workspace has the root's version, every reference between workspaces names it, and
//     CHANGELOG.md has a section for it; --release: that section is dated and not empty, and
//     compose.yaml's images carry the version (the state a tag may be made in). Exit 0, or 1 with one line per problem.
//   node scripts/release.mjs bump X.Y.Z [--root DIR]
//     sets the version everywhere (`npm version` on the root and every workspace, then the
//     references between them, which `npm version` leaves at the old version), refreshes
//     package-lock.json, tags compose.yaml's images with it, then checks.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The root package and its workspaces, each with its file and parsed package.json. */
export function workspaces(root) {
  const rootPkg = readJson(join(root, 'package.json'));
  const list = (rootPkg.workspaces ?? []).map((dir) => {
    const file = join(root, dir, 'package.json');
    return { dir, file, pkg: existsSync(file) ? readJson(file) : null };
  });
  return { rootPkg, list };
}

/**
 * The CHANGELOG's version sections (Keep a Changelog: `## [X.Y.Z] - YYYY-MM-DD`, or `- Unreleased`
 * while it is being written), each with its date (null while unreleased) and body.
 */
export function changelogSections(text) {
  const sections = [];
  const heading = /^## \[([^\]]+)\](?:\s+-\s+(.+))?\s*$/gm;
  const marks = [...text.matchAll(heading)];
  marks.forEach((m, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].index : text.length;
    const body = text.slice(m.index + m[0].length, end).replace(/^\[[^\]]+\]:\s.*$/gm, '');
    const when = m[2]?.trim() ?? '';
    sections.push({
      version: m[1],
      date: /^\d{4}-\d{2}-\d{2}$/.test(when) ? when : null,
      body: body.trim(),
    });
  });
  return sections;
}

/** Every problem that stands between this checkout and a consistent (or releasable) version. */
export function check(root, { release = false } = {}) {
  const problems = [];
  const { rootPkg, list } = workspaces(root);
  const version = rootPkg.version;
  if (!SEMVER.test(version ?? '')) problems.push(`package.json: version "${version}" is not X.Y.Z`);
  const names = new Set();
  for (const w of list) {
    if (!w.pkg) {
      problems.push(`${w.dir}: listed in workspaces but has no package.json`);
      continue;
    }
    names.add(w.pkg.name);
    if (w.pkg.version !== version)
      problems.push(`${w.dir}/package.json: version ${w.pkg.version}, the root's is ${version}`);
  }
  for (const w of list) {
    if (!w.pkg) continue;
    for (const field of DEP_FIELDS) {
      for (const [name, range] of Object.entries(w.pkg[field] ?? {})) {
        // A workspace is installed as the version being released: name it exactly.
        if (names.has(name) && range !== version)
          problems.push(`${w.dir}/package.json: ${field}.${name} is "${range}", not ${version}`);
      }
    }
  }
  const changelog = join(root, 'CHANGELOG.md');
  if (!existsSync(changelog)) problems.push('CHANGELOG.md: missing');
  else {
    const section = changelogSections(readFileSync(changelog, 'utf8')).find((s) => s.version === version);
    if (!section) problems.push(`CHANGELOG.md: no "## [${version}]" section`);
    else if (release) {
      if (!section.date)
        problems.push(`CHANGELOG.md: [${version}] has no release date (## [${version}] - YYYY-MM-DD)`);
      if (!/^- /m.test(section.body)) problems.push(`CHANGELOG.md: [${version}] lists no changes`);
    }
  }
  // The images compose.yaml builds are tagged with the version they are released as.
  const compose = join(root, 'compose.yaml');
  if (release && existsSync(compose)) {
    for (const m of readFileSync(compose, 'utf8').matchAll(/^\s*image:\s*(shelfsense-[\w-]+):(\S+)\s*$/gm)) {
      if (m[2] !== version) problems.push(`compose.yaml: image ${m[1]}:${m[2]}, not ${version}`);
    }
  }
  return { version, problems };
}

function bump(root, version) {
  if (!SEMVER.test(version)) throw new Error(`bump: "${version}" is not X.Y.Z`);
  const npm = (args) => execFileSync('npm', args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  // workspaces-update=false: npm would reinstall at once, while the references still name the old
  // version, and look for the workspaces in the registry.
  npm([
    'version',
    version,
    '--workspaces',
    '--include-workspace-root',
    '--no-git-tag-version',
    '--workspaces-update=false',
    '--allow-same-version',
  ]);
  const { list } = workspaces(root);
  const names = new Set(list.map((w) => w.pkg?.name).filter(Boolean));
  for (const w of list) {
    if (!w.pkg) continue;
    const pkg = readJson(w.file);
    for (const field of DEP_FIELDS)
      for (const name of Object.keys(pkg[field] ?? {})) if (names.has(name)) pkg[field][name] = version;
    writeFileSync(w.file, `${JSON.stringify(pkg, null, 2)}\n`);
  }
  npm(['install', '--package-lock-only', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']);
  const compose = join(root, 'compose.yaml');
  if (existsSync(compose)) {
    const text = readFileSync(compose, 'utf8');
    writeFileSync(compose, text.replace(/^(\s*image:\s*shelfsense-[\w-]+:)\S+(\s*)$/gm, `$1${version}$2`));
  }
}

function main(argv) {
  const [cmd, ...rest] = argv;
  const rootFlag = rest.indexOf('--root');
  const root = resolve(
    rootFlag >= 0 ? rest[rootFlag + 1] : join(dirname(fileURLToPath(import.meta.url)), '..'),
  );
  if (cmd === 'bump') {
    const version = rest.find((a) => SEMVER.test(a));
    if (!version) {
      process.stderr.write('usage: release.mjs bump X.Y.Z [--root DIR]\n');
      return 2;
    }
    bump(root, version);
  } else if (cmd !== 'check') {
    process.stderr.write('usage: release.mjs check [--release] [--root DIR] | bump X.Y.Z [--root DIR]\n');
    return 2;
  }
  const { version, problems } = check(root, { release: rest.includes('--release') });
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length) return 1;
  process.stdout.write(`version ${version}: every workspace agrees; CHANGELOG.md has its section\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
