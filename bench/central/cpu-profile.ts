/**
 * Where a process spent its CPU: reads the `.cpuprofile` that `node --cpu-prof --cpu-prof-dir DIR`
 * writes at exit and sums self time by package (node_modules), by Shelfsense module (`<pkg>/dist/
 * <folder>`), by Node built-in, or by V8 pseudo-frame ((garbage collector), (program)); idle time is
 * left out, and so, when a time window is given, is everything outside it (start-up, say). Returns
 * two Markdown tables: those groups, and the hottest functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The group a frame belongs to: an npm package, a Shelfsense module, a built-in or a V8 frame. */
export function frameGroup(url: string, functionName: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const own = /\/(protocol|agent|broker|dashboard|firmware-sim)\/dist\/([^/]+)/.exec(url);
  if (own) return `shelfsense ${own[1]}/${(own[2] as string).replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return url;
  return functionName || '(anonymous)';
}

function rows(m: Map<string, number>, busy: number, k: number): string[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, t]) => `| ${name.replaceAll('|', '\\|')} | ${((100 * t) / busy).toFixed(1)} |`);
}

/** Now on the clock V8 stamps profile samples with (CLOCK_MONOTONIC on Linux, as `process.hrtime`), µs. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Summary of the first profile in `dir`, or a note when there is none. With `window` ([from, to]
 * in monotonicUs() of any process on this machine), only the samples taken within it count.
 */
export function profileSummary(dir: string, window?: readonly [number, number], top = 12): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return '(no profile written)';
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window[0] || at > window[1])) return;
    if (!n || n.callFrame.functionName === '(idle)') return;
    busy += dt;
    const g = frameGroup(n.callFrame.url, n.callFrame.functionName);
    groups.set(g, (groups.get(g) ?? 0) + dt);
    const f = `${n.callFrame.functionName || '(anonymous)'} (${g})`;
    fns.set(f, (fns.get(f) ?? 0) + dt);
  });
  if (busy === 0) return '(empty profile)';
  return [
    `busy ${(busy / 1e6).toFixed(1)} s of CPU`,
    '',
    '| where (self time) | % of busy |',
    '| --- | ---: |',
    ...rows(groups, busy, top),
    '',
    '| function | % of busy |',
    '| --- | ---: |',
    ...rows(fns, busy, top),
  ].join('\n');
}
