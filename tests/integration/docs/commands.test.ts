/**
 * Every command README.md and docs/ tell a reader to type runs as written: each `shelfsense`,
 * `npx`, `npm run`/`start`/`test`/`ci` and `node_modules/.bin/…` line of a shell code block, and
 * whole commands in inline code (see extract.ts). A command that would start a server or a long
 * job runs with `--help` added, which still refuses an unknown command or flag (exit 2); `users`
 * commands run for real against a scratch data dir and config; the rest is said per command in
 * `plan()` below, with the few lines that cannot run here named in SKIP with the reason.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';
import { type DocCommand, extractCommands, isCommandSegment, segments, withoutEnv } from './extract.js';

/** Lines that cannot run inside a test, each with its reason (matched against the whole line). */
const SKIP: { line: RegExp; reason: string }[] = [
  { line: /^npm ci(\s|$)/, reason: 'reinstalls node_modules, which this very test runs from' },
  {
    line: /^\.\/node_modules\/\.bin\/shelfsense-agent --config agent\.yaml$/,
    reason:
      'runs where the agent tarball was installed (docs/releasing.md); agent-package.test.ts installs one and runs it',
  },
];

/** Long-running or long-job subcommands and scripts: checked with `--help` added. */
const LONG_SUBCOMMANDS = new Set(['demo', 'central', 'agent', 'sim', 'bench']);
// `test` would run the whole suite inside itself; its --help answers before installing or building.
const LONG_SCRIPTS = new Set([
  'test',
  'bench',
  'soak',
  'fuzz',
  'test:faults',
  'check:fresh',
  'check:containers',
]);
/** Scripts checked to exist only: they rewrite files (format, schemas) or check or rebuild the
 * whole tree that other test files and people use at the same time (the test command has built
 * already). tests/unit/protocol/config-schemas.test.ts checks what `schemas` writes. */
const EXISTS_ONLY_SCRIPTS = new Set(['build', 'typecheck', 'lint', 'format', 'schemas']);

const BIN = join(ROOT, 'node_modules', '.bin');
const scratch = mkdtempSync(join(tmpdir(), 'shelfsense-doc-commands-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Step =
  | {
      kind: 'run';
      cmd: string;
      cwd: string;
      env?: Record<string, string>;
      input?: string;
      expectOut?: RegExp;
    }
  | { kind: 'exists'; path: string; what: string }
  | { kind: 'script'; name: string; workspace: string | null };

interface Plan {
  how: string;
  steps: Step[];
}

function rootScripts(workspace: string | null): Record<string, string> {
  const pkg = join(ROOT, workspace ?? '', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
}

/** A sandbox per doc file for `users` lines: a data dir, a central.yaml naming the sites and
 * suppliers the docs use, and the docs' paths mapped onto it. */
function usersSandbox(file: string): { cwd: string; rewrite: (line: string) => string } {
  const cwd = join(scratch, file.replace(/[^\w]+/g, '-'));
  if (!existsSync(cwd)) {
    mkdirSync(cwd, { recursive: true });
    writeFileSync(
      join(cwd, 'central.yaml'),
      [
        `dataDir: ${JSON.stringify(join(cwd, 'data'))}`,
        'suppliers: [{ id: acme }]',
        'skus: [{ id: cola, unitWeightG: 350, supplier: acme }]',
        'sites:',
        ...['store-1', 'store-2'].flatMap((site, i) => [
          `  - id: ${site}`,
          '    shelves:',
          `      - { id: aisle-${i}, serial: DOC-${i}, agent: pi-${i + 1}, lanes: [{ id: l1, channels: [0], sku: cola, capacity: 10 }] }`,
        ]),
        '',
      ].join('\n'),
    );
  }
  return {
    cwd,
    rewrite: (line) =>
      line
        .replaceAll('/etc/shelfsense/central.yaml', join(cwd, 'central.yaml'))
        .replaceAll('/var/lib/shelfsense', join(cwd, 'data')),
  };
}

/** `npm run x -- a b` → the same with `--help` where npm hands it to the script. */
function npmWithHelp(segment: string): string {
  return /\s--(\s|$)/.test(segment) ? `${segment} --help` : `${segment} -- --help`;
}

function plan(c: DocCommand): Plan {
  const line = c.line;
  const skip = SKIP.find((s) => s.line.test(line));
  if (skip) return { how: `skipped: ${skip.reason}`, steps: [] };

  // `users` changes a data dir and `cluster` reads it: run the whole line (pipes and all) in a
  // sandbox, in doc order. (In prose, `shelfsense users token` names a command: checked with
  // --help below.)
  // The cluster's worker and web node run until stopped, and import-users needs its Postgres:
  // checked with --help below.
  if (
    !c.inline &&
    /(^|\|\s*)shelfsense (users|cluster)\s+\w/.test(line) &&
    !/shelfsense cluster (worker|web|import-users)\b/.test(line) &&
    !/--help/.test(line)
  ) {
    const box = usersSandbox(c.file);
    return {
      how: 'run in a scratch data dir',
      steps: [
        {
          kind: 'run',
          cmd: box.rewrite(line),
          cwd: box.cwd,
          env: { PW: 'doc-password-1' },
          input: 'doc-password-2\ndoc-password-2\n',
        },
      ],
    };
  }

  const planned = segments(line).map((seg) => planSegment(c, seg));
  return { how: planned.map((p) => p.how).join(', '), steps: planned.flatMap((p) => p.steps) };
}

/** One segment of a line (`a && b`, `a | b`). */
function planSegment(c: DocCommand, seg: string): Plan {
  const s = withoutEnv(seg);
  const noRule = () => new Error(`${c.where}: no rule for "${s}"; add one to plan() or a reason to SKIP`);
  if (!isCommandSegment(s)) {
    const node = /^node\s+(?:--import\s+tsx\s+)?(\S+\.m?[jt]s)\b/.exec(s);
    if (node)
      return { how: `${node[1]} exists`, steps: [{ kind: 'exists', path: node[1]!, what: 'script' }] };
    if (/^npm pack\s/.test(s))
      return { how: 'npm pack --dry-run', steps: [{ kind: 'run', cmd: `${s} --dry-run`, cwd: ROOT }] };
    if (/^echo\s/.test(s)) return { how: '', steps: [] }; // feeds the next command's stdin
    throw noRule();
  }
  const cli = /^(?:npx\s+|(?:\.\/)?node_modules\/\.bin\/)?shelfsense(?:\s+(\S+))?/.exec(s);
  if (cli) {
    const sub = cli[1];
    // `agent --list-ports` lists this machine's serial ports and exits: it runs as written.
    if (sub === 'agent' && /\s--list-ports(\s|$)/.test(s) && !/\s--help$/.test(s))
      return {
        how: 'run',
        steps: [{ kind: 'run', cmd: seg, cwd: ROOT, expectOut: /^(\/dev\/|No serial ports found)/m }],
      };
    // `users`, `config` and `cluster` change a data dir or need their servers: named in prose, they
    // are checked with --help.
    const help =
      sub === undefined ||
      LONG_SUBCOMMANDS.has(sub) ||
      sub === 'users' ||
      sub === 'config' ||
      sub === 'cluster' ||
      /\s--help$/.test(s);
    // `shelfsense …` as typed in a shell: the bin npm linked into node_modules/.bin.
    const cmd = help && !/\s--help$/.test(seg) ? `${seg} --help` : seg;
    return {
      how: help ? 'with --help' : 'run',
      steps: [{ kind: 'run', cmd, cwd: ROOT, expectOut: /^Usage: shelfsense/m }],
    };
  }
  if (/^npx\s+tsc\s/.test(s))
    return { how: 'tsc --dry', steps: [{ kind: 'run', cmd: `${s} --dry`, cwd: ROOT }] };
  const vitest = /^npx\s+vitest\s+run\s+(.*)$/.exec(s);
  if (vitest) {
    const paths = vitest[1]!.split(/\s+/).filter((a) => !a.startsWith('-'));
    return {
      how: 'test paths exist',
      steps: [
        ...paths.map((path): Step => ({ kind: 'exists', path, what: 'test path' })),
        { kind: 'run', cmd: 'npx vitest --help', cwd: ROOT },
      ],
    };
  }
  const npm = /^npm\s+(?:run(?:-script)?\s+(\S+)|(start|test))(.*)$/.exec(s);
  if (!npm) throw noRule();
  const name = npm[1] ?? npm[2]!;
  const workspace = /\s(?:-w|--workspace)(?:\s+|=)(\S+)/.exec(npm[3] ?? '')?.[1] ?? null;
  const exists: Step = { kind: 'script', name, workspace };
  if (LONG_SCRIPTS.has(name))
    return {
      how: 'with --help',
      steps: [exists, { kind: 'run', cmd: npmWithHelp(s), cwd: ROOT, expectOut: /usage/i }],
    };
  if (name === 'start') {
    // `npm run build && node cli/dist/main.js demo`: the build is the test command's own
    // first step; the command it starts answers --help.
    const parts = (rootScripts(workspace)[name] ?? '').split(/\s*&&\s*/);
    expect(parts.slice(0, -1).every((p) => p === 'npm run build')).toBe(true);
    const cmd = `${parts.at(-1)} --help`;
    return {
      how: 'its command with --help',
      steps: [exists, { kind: 'run', cmd, cwd: ROOT, expectOut: /^Usage: shelfsense/m }],
    };
  }
  if (EXISTS_ONLY_SCRIPTS.has(name)) return { how: 'the script exists', steps: [exists] };
  throw new Error(`${c.where}: no rule for the npm script "${name}"`);
}

const ran = new Map<string, SpawnSyncReturns<string>>();

function runStep(c: DocCommand, step: Step, how: string): void {
  const label = `${c.where}: ${c.line} (checked: ${how})`;
  if (step.kind === 'exists') {
    expect(existsSync(join(ROOT, step.path)), `${label}: the ${step.what} ${step.path} exists`).toBe(true);
    return;
  }
  if (step.kind === 'script') {
    const scripts = rootScripts(step.workspace);
    expect(
      scripts[step.name],
      `${label}: package.json${step.workspace ? ` of ${step.workspace}` : ''} has the script "${step.name}"`,
    ).toBeTypeOf('string');
    return;
  }
  // The same check written in several docs runs once (a `users` line changes state: never cached).
  const key = step.env || step.input ? null : `${step.cwd}\0${step.cmd}`;
  const r =
    (key && ran.get(key)) ||
    spawnSync('bash', ['-c', step.cmd], {
      cwd: step.cwd,
      // npx must not fetch a package of the same name from the registry when a bin is missing.
      env: { ...process.env, ...step.env, PATH: `${BIN}:${process.env.PATH}`, npm_config_yes: 'false' },
      input: step.input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
    });
  if (key) ran.set(key, r);
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.status, `${label}\n  ran: ${step.cmd}\n  output: ${out.slice(0, 2000)}`).toBe(0);
  expect(out, `${label}: no "unknown" in the output`).not.toMatch(/unknown (command|option|argument|flag)/i);
  if (step.expectOut) expect(out, `${label}: output`).toMatch(step.expectOut);
}

const commands = extractCommands(ROOT);

describe('[docs run as written] every documented command runs', () => {
  it('finds the commands of README.md and docs/', () => {
    expect(commands.length).toBeGreaterThan(30);
    expect(commands.map((c) => c.line)).toContain('npx shelfsense demo --help');
  });

  // In doc order: the `users` lines of one file build on each other (add, then list, passwd…).
  for (const c of commands) {
    it(`${c.where}: ${c.line}`, () => {
      const p = plan(c);
      for (const step of p.steps) runStep(c, step, p.how);
    }, 120_000);
  }
});

describe('[bad flag → exit 2] every command and script refuses an unknown flag', () => {
  const cases: [string, string][] = [
    ...['sim', 'agent', 'central', 'demo', 'users', 'users add x', 'users list', 'bench agent'].map(
      (sub) => [`shelfsense ${sub} --no-such-flag`, 'no-such-flag'] as [string, string],
    ),
    ['shelfsense no-such-command', 'unknown command'],
    ['npm run --silent bench -- agent --no-such-flag --help', 'no-such-flag'],
    ['npm run --silent bench -- no-such-bench --help', 'no-such-bench'],
    ['npm run --silent test:faults -- --no-such-flag --help', 'no-such-flag'],
    ['npm run --silent fuzz -- --no-such-flag --help', 'no-such-flag'],
    ['npm run --silent soak -- --no-such-flag --help', 'no-such-flag'],
  ];
  for (const [cmd, says] of cases) {
    it(`${cmd} → exit 2, naming it`, () => {
      const r = spawnSync('bash', ['-c', cmd], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
        input: '',
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status, `${cmd}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(says);
    }, 90_000);
  }
});
