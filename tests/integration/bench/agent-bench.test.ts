/**
 * `npm run bench -- agent` end to end, scaled down (2 shelves, 5 s of device time, one run): the
 * simulator (over TCP and on ptys), the compiled agent, Node-RED and Mosquitto all run for real. Proves the benchmark
 * completes with every frame accounted for on both sides and records its table in the benchmarks
 * document between the agent's markers, leaving the other sections alone. No figure is checked:
 * timings belong to the benchmark, not to a test.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, ROOT, spawnCli } from '../../helpers/proc.js';
import { withTimeout } from '../../helpers/wait.js';

let dir: string | undefined;

afterEach(async () => {
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const between = (text: string, name: string) =>
  text.slice(text.indexOf(`<!-- bench:${name}:begin -->`), text.indexOf(`<!-- bench:${name}:end -->`));

describe('agent benchmark', () => {
  it('[bench-agent] runs the agent and Node-RED on the same frames, accounts for every frame and records the table', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
    const doc = join(dir, 'benchmarks.md');
    copyFileSync(join(ROOT, 'docs/benchmarks.md'), doc);
    const before = readFileSync(doc, 'utf8');
    const args = [
      'agent',
      '--no-build',
      '--duration',
      '5s',
      '--runs',
      '1',
      '--shelves',
      '2',
      '--idle-ms',
      '200',
      '--realtime',
      '5s',
    ];
    const bench = spawnCli('scripts/bench.mjs', args, { env: { SHELFSENSE_BENCH_DOC: doc } });
    const exit = await withTimeout(bench.exited, 150_000, 'the benchmark');
    const out = bench.lines.join('\n');
    expect(exit.code, bench.stderr()).toBe(0);

    // 2 shelves × 5 s × 80 SPS = 800 frames; Node-RED forwards them plus one ID line per shelf.
    expect(out).toContain('(800 frames = 6,400 channel samples per consumer)');
    expect(out).toContain('agent: 800 frames accepted');
    expect(out).toMatch(/outbox 0;/);
    expect(out).toContain('Node-RED: 802 messages published');
    expect(out).toContain(
      '| measure | Shelfsense agent | Node-RED 5 (tcp in → mqtt out) | agent / Node-RED |',
    );
    for (const row of [
      'CPU per channel sample, µs',
      'RSS at the end of the data, MB',
      'RSS settled after the data, MB',
      'idle RSS (connected, no data, settled), MB',
      // the real-rate table
      'RSS after 5s, MB',
      'CPU, % of one core',
    ]) {
      expect(out).toMatch(new RegExp(`\\| ${literal(row)} \\| [\\d.,]+ \\| [\\d.,]+ \\| [\\d.]+ \\|`));
    }

    // The same shelves on serial ports (ptys) at the real rate, as a Pi with USB shelves reads them.
    expect(out).toContain('| agent, serial shelves (ptys) |');
    expect(out).toMatch(/Serial run: agent: \d+ frames accepted/);

    const after = readFileSync(doc, 'utf8');
    const block = between(after, 'agent');
    expect(block).toContain(
      'Reproduce: `npm run bench -- agent --duration 5s --runs 1 --shelves 2 --idle-ms 200 --realtime 5s`',
    );
    expect(block).toContain('agent: 800 frames accepted');
    // The versions measured, and the commit where the tree is a git checkout (a copied tree has none).
    expect(block).toMatch(/Node-RED \d+\.\d+\.\d+(; commit [0-9a-f]+)?; load average/);
    // The summary now has the agent's headline figures next to Node-RED's and the physical limits.
    const summary = between(after, 'summary');
    expect(summary).toMatch(
      /\| agent \| CPU per channel sample, µs \| [\d.,]+ \| [\d.,]+ Node-RED \| [\d.]+ \|/,
    );
    expect(summary).toContain('115200 baud × 2');
    // Everything outside the agent's block and the summary is as it was.
    const rest = (t: string) =>
      t.replace(/<!-- bench:summary:begin -->[\s\S]*<!-- bench:summary:end -->/, '');
    expect(rest(after).slice(rest(after).indexOf('## Broker'))).toBe(
      rest(before).slice(rest(before).indexOf('## Broker')),
    );
    expect(rest(after).slice(0, rest(after).indexOf('<!-- bench:agent:begin -->'))).toBe(
      rest(before).slice(0, rest(before).indexOf('<!-- bench:agent:begin -->')),
    );
  }, 180_000);
});
