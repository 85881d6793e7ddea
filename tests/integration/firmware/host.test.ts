/**
 * The firmware's C++ unit tests (firmware/test, doctest) as vitest cases. The module builds the
 * test binary with make (`make -C firmware test-bin`: g++ with AddressSanitizer and UBSan), lists
 * its test cases and runs them once with doctest's XML reporter; then each doctest TEST_CASE is one
 * vitest `it` that fails with doctest's own account of the failure, so the suite's closing
 * "N passed, M failed" counts every C++ test. A missing tool fails the suite naming the apt
 * package to install; nothing is skipped.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assert, describe, it } from 'vitest';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);
const FIRMWARE = join(ROOT, 'firmware');
const BINARY = join(FIRMWARE, 'build/host/shelfsense-tests');

// ---- tools --------------------------------------------------------------------------------------

async function onPath(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

const TOOLS: { what: string; present: () => Promise<boolean> | boolean; pkg: string }[] = [
  { what: 'make', present: () => onPath('make'), pkg: 'make' },
  { what: 'g++', present: () => onPath('g++'), pkg: 'g++' },
  { what: 'flock', present: () => onPath('flock'), pkg: 'util-linux' },
  {
    what: 'doctest (doctest/doctest.h)',
    present: () => existsSync('/usr/include/doctest/doctest.h'),
    pkg: 'doctest-dev',
  },
];

// ---- doctest's XML, read just enough: elements, attributes, text --------------------------------

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
  closed: boolean;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(lt|gt|amp|quot|apos|#\d+);/g, (_, e: string) =>
    e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : (ENTITIES[e] as string),
  );

/** Parses doctest's XML; elements cut off by a crash stay in the tree with `closed: false`. */
function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#root', attrs: {}, children: [], text: '', closed: false };
  const stack = [root];
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"]*")*)\s*(\/?)>|<\?[^>]*\?>/g;
  let at = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const top = stack[stack.length - 1] as XmlNode;
    top.text += decode(xml.slice(at, m.index));
    at = tag.lastIndex;
    if (!m[2]) continue; // <?xml …?>
    if (m[1]) {
      const done = stack.pop() as XmlNode;
      done.closed = true;
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (m[3] ?? '').matchAll(/([\w-]+)="([^"]*)"/g))
      attrs[a[1] as string] = decode(a[2] as string);
    const node: XmlNode = { name: m[2], attrs, children: [], text: '', closed: m[4] === '/' };
    top.children.push(node);
    if (!node.closed) stack.push(node);
  }
  return root;
}

function* walk(node: XmlNode): Generator<XmlNode> {
  yield node;
  for (const c of node.children) yield* walk(c);
}

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);

// ---- build, list, run ---------------------------------------------------------------------------

interface CaseResult {
  /** `<suite> › <name>`, as vitest shows it. */
  title: string;
  /** null when the case passed; else doctest's report of what failed. */
  failure: string | null;
}

async function runDoctest(): Promise<{ setupError: string | null; cases: CaseResult[] }> {
  const missing: string[] = [];
  for (const t of TOOLS)
    if (!(await t.present())) missing.push(`${t.what} is missing: apt-get install ${t.pkg}`);
  if (missing.length > 0) return { setupError: missing.join('\n'), cases: [] };

  try {
    await run('make', ['-s', '-C', FIRMWARE, '-j2', 'test-bin'], { timeout: 600_000, maxBuffer: 1 << 24 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    return {
      setupError: `make -C firmware test-bin failed:\n${(e.stderr || e.stdout || e.message).slice(-6000)}`,
      cases: [],
    };
  }

  // Every test case, from the binary itself: a case a crash kept from running still gets its `it`.
  const listed = parseXml((await run(BINARY, ['--list-test-cases', '--reporters=xml'])).stdout);
  const all = [...walk(listed)].filter((n) => n.name === 'TestCase');
  if (all.length === 0) return { setupError: `${BINARY} lists no test cases`, cases: [] };

  // A failing case makes the binary exit 1; a crash ends it early with the report on stderr.
  let stdout: string;
  let stderr = '';
  let exit = 'exited 0';
  try {
    ({ stdout, stderr } = await run(BINARY, ['--reporters=xml', '--no-version'], {
      maxBuffer: 1 << 26,
      timeout: 600_000,
    }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number; signal?: string };
    stdout = e.stdout ?? '';
    stderr = e.stderr ?? '';
    exit = e.signal ? `was killed by ${e.signal}` : `exited ${e.code}`;
  }
  const ran = new Map<string, XmlNode>();
  for (const n of walk(parseXml(stdout))) {
    if (n.name === 'TestCase') ran.set(`${n.attrs.filename}:${n.attrs.line}`, n);
  }

  const cases = all.map((listedCase): CaseResult => {
    const title = `${listedCase.attrs.testsuite ?? '(no suite)'} › ${listedCase.attrs.name}`;
    const where = `${listedCase.attrs.filename}:${listedCase.attrs.line}`;
    const result = ran.get(where);
    if (!result) {
      return {
        title,
        failure: `did not run: the test binary ${exit} before reaching it\n${stderr.slice(-4000)}`,
      };
    }
    const overall = child(result, 'OverallResultsAsserts');
    if (!result.closed || !overall) {
      return { title, failure: `crashed while running (the binary ${exit}):\n${stderr.slice(-6000)}` };
    }
    if (overall.attrs.test_case_success === 'true') return { title, failure: null };
    const report = result.children
      .filter((c) => c.name !== 'OverallResultsAsserts')
      .map((c) => {
        const place = c.attrs.filename ? `${c.attrs.filename}:${c.attrs.line}: ` : '';
        const parts = c.children.map((p) => `${p.name}: ${p.text.trim()}`).join('\n  ');
        return `${place}${c.attrs.type ?? c.name} failed${c.attrs.crash === 'true' ? ' (crash)' : ''}\n  ${parts || c.text.trim()}`;
      });
    return { title, failure: `${where}\n${report.join('\n') || 'failed without an assertion report'}` };
  });
  return { setupError: null, cases };
}

const { setupError, cases } = await runDoctest();

describe('firmware C++ unit tests (doctest, firmware/test)', () => {
  if (setupError !== null) {
    it('[FW-HOST] builds and runs the C++ unit tests', () => {
      assert.fail(setupError);
    });
    return;
  }
  it.each(cases.map((c) => [c.title, c] as const))('[FW-HOST] %s', (_title, c) => {
    if (c.failure !== null) assert.fail(c.failure);
  });
});
