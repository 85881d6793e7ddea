/**
 * The soak run's verdicts and its summary table (Markdown). The bounds live here, named, so the
 * table, the command's exit code and the short test all judge by the same numbers.
 */
import { simLabel } from '@shelfsense/firmware-sim';
import { slope } from '../helpers/soak-procs.js';
import { EXACT_BOUND, RSS_SLOPE_BOUND_MB_PER_DAY } from './bounds.js';
import type { MemPoint, SoakResult } from './run.js';

export { EXACT_BOUND, RSS_SLOPE_BOUND_MB_PER_DAY };

export interface Verdict {
  check: string;
  ok: boolean;
  detail: string;
}

export interface MemFigures {
  startMb: number;
  endMb: number;
  /** MB per simulated day, least squares over the second half of the samples. */
  rssSlope: number;
  heapSlope: number;
  samples: number;
}

const MB = 2 ** 20;

export function memFigures(mem: readonly MemPoint[], which: 'agent' | 'central'): MemFigures {
  const hours = mem.at(-1)?.hour ?? 0;
  const late = mem.filter((p) => p.hour >= hours / 2);
  const lsq = (k: 'rss' | 'heapUsed') => slope(late.map((p) => ({ x: p.hour / 24, y: p[which][k] / MB })));
  return {
    startMb: (mem[0]?.[which].rss ?? 0) / MB,
    endMb: (mem.at(-1)?.[which].rss ?? 0) / MB,
    rssSlope: lsq('rss'),
    heapSlope: lsq('heapUsed'),
    samples: late.length,
  };
}

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(3)} %`);
const int = (n: number) => n.toLocaleString('en-US');

export function verdicts(r: SoakResult, opts: { memory: boolean }): Verdict[] {
  const a = r.analysis;
  const o = a.orders;
  const out: Verdict[] = [
    {
      check: 'frames: every frame sent was accepted by the agent',
      ok: r.framesAccepted === r.framesSent && r.framesSent > 0,
      detail: `${int(r.framesAccepted)} of ${int(r.framesSent)}`,
    },
    {
      check:
        'nothing lost: readings in central.db contiguous from 1, no gap given up, the rest still in the outbox, none dropped',
      ok: a.readings.nothingLost,
      detail:
        `${int(a.readings.rows)} rows, seq ${a.readings.minSeq}–${a.readings.maxSeq}, ${a.readings.gapRows} gaps; ` +
        `agent outbox after stop: last seq ${a.readings.outbox.lastSeq}, ${a.readings.outbox.queued} queued, ` +
        `${a.readings.outbox.dropped} dropped`,
    },
    {
      check: `counts exact: ≥ ${EXACT_BOUND * 100} % of stable readings (and of stable changes) equal the truth`,
      ok:
        a.stable.readings > 0 &&
        a.stable.exact / a.stable.readings >= EXACT_BOUND &&
        a.stable.exactChanges / a.stable.changes >= EXACT_BOUND,
      detail:
        `${int(a.stable.exact)}/${int(a.stable.readings)} (${pct(a.stable.exact, a.stable.readings)}), changes ` +
        `${int(a.stable.exactChanges)}/${int(a.stable.changes)} (${pct(a.stable.exactChanges, a.stable.changes)})` +
        (a.stable.wrong.length ? `; wrong: ${JSON.stringify(a.stable.wrong.slice(0, 3))}` : ''),
    },
    {
      check: 'final counts: every lane ends at its true count',
      ok: a.finalCounts.exact === a.finalCounts.lanes,
      detail:
        `${a.finalCounts.exact}/${a.finalCounts.lanes}` +
        (a.finalCounts.wrong.length ? `; ${JSON.stringify(a.finalCounts.wrong.slice(0, 3))}` : ''),
    },
    {
      check: 'orders 1:1 with needs: none missed, none duplicate, none false',
      ok:
        o.needs > 0 &&
        o.matched === o.needs &&
        o.orders === o.needs &&
        o.missed + o.duplicate + o.false + o.unnotified === 0,
      detail:
        `${o.needs} needs, ${o.orders} orders, ${o.matched} matched, ${o.missed} missed, ` +
        `${o.duplicate} duplicate, ${o.false} false, ${o.unnotified} without webhook`,
    },
    {
      check: 'every delivery confirmed by weight (order received)',
      ok: o.deliveredNotReceived === 0,
      detail: `${r.deliveries.filter((d) => d.deliveredDeviceMs !== null).length} delivered, ${o.received} received`,
    },
    {
      check: 'webhooks signed and each event processed once',
      ok: r.webhooks.badSignature === 0,
      detail: `${r.webhooks.received} requests, ${r.webhooks.duplicates} redelivered (ignored by key), ${r.webhooks.badSignature} bad signatures`,
    },
  ];
  if (opts.memory) {
    for (const which of ['agent', 'central'] as const) {
      const m = memFigures(r.mem, which);
      out.push({
        check: `${which} RSS after GC grows < ${RSS_SLOPE_BOUND_MB_PER_DAY} MB per simulated day`,
        ok: m.rssSlope < RSS_SLOPE_BOUND_MB_PER_DAY,
        detail: `${m.rssSlope.toFixed(2)} MB/day over ${m.samples} hourly samples`,
      });
    }
  }
  return out;
}

export function summaryTable(r: SoakResult): string {
  const a = r.analysis;
  const o = a.orders;
  const t = r.week.timeline;
  const opt = r.options;
  const laneCount = r.week.shelves.reduce((n, s) => n + s.lanes.length, 0);
  const rows: [string, string][] = [
    [
      'simulated time',
      `${opt.days} days (${simLabel(0)} → ${simLabel(t.hours * 3_600_000)}), ${(t.deviceMs / 60_000).toFixed(1)} min of device time per shelf`,
    ],
    ['wall time', `${(r.wallS / 60).toFixed(1)} min`],
    ['shelves × lanes', `${opt.shelves} × ${opt.lanes} = ${laneCount} lanes, 80 SPS`],
    ['picks / leaning hands scheduled', `${int(r.week.picks)} / ${int(r.week.leans)}`],
    ['frames sent / accepted by the agent', `${int(r.framesSent)} / ${int(r.framesAccepted)}`],
    [
      'readings stored at central (levels, events)',
      `${int(a.readings.rows)} (${int(a.readings.levels)}, ${int(a.readings.events)}); seq 1–${int(a.readings.maxSeq)} ` +
        `${a.readings.contiguous ? 'contiguous' : 'NOT contiguous'}, ${a.readings.gapRows} gaps`,
    ],
    [
      'stable readings exact',
      `${int(a.stable.exact)} / ${int(a.stable.readings)} (${pct(a.stable.exact, a.stable.readings)})`,
    ],
    [
      'stable count changes exact',
      `${int(a.stable.exactChanges)} / ${int(a.stable.changes)} (${pct(a.stable.exactChanges, a.stable.changes)})`,
    ],
    ['final lane counts exact', `${a.finalCounts.exact} / ${a.finalCounts.lanes}`],
    [
      'orders vs needs',
      `${o.orders} orders for ${o.needs} needs: ${o.matched} matched, ${o.missed} missed, ${o.duplicate} duplicate, ${o.false} false`,
    ],
    [
      'deliveries',
      `${r.deliveries.filter((d) => d.deliveredDeviceMs !== null).length} delivered at night, ${o.received} received by weight, ` +
        `${r.postponed} postponed a night`,
    ],
    [
      'order states at the end',
      Object.entries(o.byState)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'webhooks',
      `${r.webhooks.received} requests, ${r.webhooks.duplicates} redelivered, ${r.webhooks.badSignature} bad signatures`,
    ],
  ];
  for (const which of ['agent', 'central'] as const) {
    const m = memFigures(r.mem, which);
    rows.push([
      `${which} RSS after GC: start / end / slope`,
      `${m.startMb.toFixed(1)} / ${m.endMb.toFixed(1)} MB / ${m.rssSlope >= 0 ? '+' : ''}${m.rssSlope.toFixed(2)} MB per day ` +
        `(heap ${m.heapSlope >= 0 ? '+' : ''}${m.heapSlope.toFixed(2)} MB per day; ${m.samples} samples, 2nd half)`,
    ]);
  }
  rows.push(['CPU time agent / central', `${r.cpu.agentS.toFixed(0)} s / ${r.cpu.centralS.toFixed(0)} s`]);
  return ['| measure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
