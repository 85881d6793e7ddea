/**
 * The purchase-order week's verdicts, its summary table (Markdown) and the lead-time bound.
 *
 * The bound. Central learns a supplier's lead time from its delivered POs (orders/lead-time.ts):
 * the recency-weighted mean m of the n delivered POs' sent → received times, blended with the
 * schedule's nominal cut-off → delivery time N as a prior worth k = 3 deliveries:
 *
 *   learned = w·N + (1 − w)·m,   w = k / (k + n).
 *
 * Each sample is the supplier's drawn lead d (μ·(1 ± j), uniform), plus the van's wait for a quiet
 * lane W and the shelf's counting C (receipt by weight), both measured per delivery and ≥ 0. So
 * m = Σwᵢ(dᵢ + Wᵢ + Cᵢ)/Σwᵢ lies within j·μ + D of μ, D the same weighted mean of W + C, and
 *
 *   |learned − μ| ≤ w·|N − μ| + (1 − w)·(j·μ + D).
 *
 * D is taken with the learner's weights (2^(−i/8), newest sent first) when it kept every sample,
 * else as the largest W + C, which bounds any weighted mean. n, N, μ and j are known. After the
 * week (n ≈ 16, N = 2 min, μ = 100 s, j = 5 %, D about a second) the right side is under 10 % of μ.
 */
import { simLabel } from '@shelfsense/firmware-sim';
import type { PoWeekResult } from './po-run.js';

/** The prior's weight in deliveries (orders/lead-time.ts DEFAULT_PRIOR_WEIGHT). */
export const PRIOR_WEIGHT = 3;

export interface Verdict {
  check: string;
  ok: boolean;
  detail: string;
}

export interface LeadFigures {
  trueMs: number;
  nominalMs: number;
  learnedMs: number | null;
  n: number;
  w: number;
  /** Mean of the drawn leads of the delivered POs, and of their measured sent → received. */
  drawnMeanMs: number;
  measuredMeanMs: number;
  waitMaxMs: number;
  countingMaxMs: number;
  /** D above: the learner-weighted mean (or the largest) wait + counting, ms. */
  delayMs: number;
  boundMs: number;
  errorMs: number | null;
}

export function leadFigures(r: PoWeekResult): LeadFigures {
  const { lead } = r.options;
  const l = r.analysis.lead;
  const n = r.learned?.n ?? 0;
  const w = PRIOR_WEIGHT / (PRIOR_WEIGHT + n);
  const nominalMs = r.learned?.nominalMs ?? r.schedule.nominalMs;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const delays = l.samples.map((x) => x.receivedAt - x.sentAt - x.drawnMs);
  let delayMs = delays.length ? Math.max(...delays) : 0;
  if (n === l.samples.length && n > 0) {
    // The learner's weights: newest sent first, halving every 8 deliveries.
    const ws = delays.map((_, i) => 2 ** (-i / 8));
    delayMs = delays.reduce((a, x, i) => a + (ws[i] as number) * x, 0) / ws.reduce((a, b) => a + b, 0);
  }
  const boundMs =
    w * Math.abs(nominalMs - lead.meanMs) + (1 - w) * (lead.jitter * lead.meanMs + Math.max(0, delayMs));
  return {
    trueMs: lead.meanMs,
    nominalMs,
    learnedMs: r.learned?.meanMs ?? null,
    n,
    w,
    drawnMeanMs: mean(l.samples.map((x) => x.drawnMs)),
    measuredMeanMs: mean(l.samples.map((x) => x.receivedAt - x.sentAt)),
    waitMaxMs: l.waitMaxMs,
    countingMaxMs: l.countingMaxMs,
    delayMs,
    boundMs,
    errorMs: r.learned ? Math.abs(r.learned.meanMs - lead.meanMs) : null,
  };
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)} %`;

export interface VerdictOptions {
  /** The learned lead time must be within this share of the true mean (the week: 0.1). */
  convergence?: number;
  /** At least this many lines delivered short and counted (so the discrepancy check means something). */
  minShortLines?: number;
}

export function poVerdicts(r: PoWeekResult, opts: VerdictOptions = {}): Verdict[] {
  const a = r.analysis;
  const sc = a.scheduled;
  const ct = a.control;
  const wh = a.webhooks;
  const d = a.discrepancies;
  const lf = leadFigures(r);
  const out: Verdict[] = [
    {
      check: 'every need of the scheduled supplier on exactly one PO line: 0 missed, 0 duplicate, 0 false',
      ok:
        sc.needs > 0 &&
        sc.matched === sc.needs &&
        sc.orders === sc.needs &&
        sc.onLines === sc.orders &&
        sc.missed + sc.duplicate + sc.false + sc.offLine + sc.misplaced + sc.badLineQuantity + sc.unheard ===
          0,
      detail:
        `${sc.needs} needs, ${sc.onLines} lane needs on ${a.pos.lines} lines of ${a.pos.total} POs: ${sc.matched} matched, ` +
        `${sc.missed} missed, ${sc.duplicate} duplicate, ${sc.false} false; ${sc.offLine} orders on no line, ` +
        `${sc.misplaced} on the wrong PO or line, ${sc.badLineQuantity} lines not the sum of their lanes, ` +
        `${sc.unheard} on a sent PO the supplier never heard of, ${sc.onDrafts} on the draft at the end`,
    },
    {
      check: 'control supplier (no schedule): one order per need, each by its own webhook, none on a PO',
      ok:
        ct.matched === ct.needs &&
        ct.orders === ct.needs &&
        ct.missed + ct.duplicate + ct.false + ct.unheard + ct.onPos === 0,
      detail:
        `${ct.needs} needs, ${ct.orders} orders: ${ct.matched} matched, ${ct.missed} missed, ${ct.duplicate} duplicate, ` +
        `${ct.false} false, ${ct.unheard} without webhook, ${ct.onPos} on a PO`,
    },
    {
      check: 'exactly one webhook per PO version, none per lane for the scheduled supplier',
      ok:
        wh.poEvents > 0 &&
        wh.missing.length === 0 &&
        wh.unknown.length === 0 &&
        wh.redelivered === 0 &&
        wh.perLaneScheduled === 0 &&
        wh.badSignature === 0,
      detail:
        `${wh.poEvents} PO versions stored, ${wh.poKeysReceived} keys received (${wh.missing.length} missing, ` +
        `${wh.unknown.length} unknown, ${wh.redelivered} more than once); per-lane order events: ` +
        `${wh.perLaneScheduled} scheduled, ${wh.perLaneControl} control; ${wh.badSignature} bad signatures`,
    },
    {
      check:
        'a discrepancy for exactly the lines delivered short (none for a short shipment declared as such)',
      ok: d.missing.length === 0 && d.extra.length === 0 && d.expected.length >= (opts.minShortLines ?? 0),
      detail:
        `${d.expected.length} lines delivered short and counted, ${d.opened.length} discrepancies opened ` +
        `(${d.missing.length} missing, ${d.extra.length} extra); ${d.declaredShortLines} lines shipped short as declared` +
        (d.extra.length ? `; extra: ${d.extra.slice(0, 3).join(', ')}` : ''),
    },
    {
      check: 'every PO the van delivered in full was received by weight',
      ok: a.pos.received > 0 && a.pos.deliveredNotReceived.length === 0,
      detail: `${a.pos.delivered} delivered, ${a.pos.received} received${
        a.pos.deliveredNotReceived.length ? `; not: ${a.pos.deliveredNotReceived.slice(0, 3).join(', ')}` : ''
      }`,
    },
    {
      check: 'learned lead time within the proven bound of the true mean',
      ok: lf.errorMs !== null && lf.n > 0 && lf.errorMs <= lf.boundMs + 1,
      detail:
        lf.learnedMs === null
          ? 'no learned lead time from /api/purchase-orders/lead-times'
          : `learned ${s1(lf.learnedMs)} (n ${lf.n}), true ${s1(lf.trueMs)}: off by ${s1(lf.errorMs ?? 0)} ` +
            `(${pct(lf.errorMs ?? 0, lf.trueMs)}), bound ${s1(lf.boundMs)} (${pct(lf.boundMs, lf.trueMs)})`,
    },
  ];
  if (opts.convergence !== undefined) {
    const c = opts.convergence;
    out.push({
      check: `learned lead time within ${c * 100} % of the supplier's true mean`,
      ok: lf.errorMs !== null && lf.errorMs <= c * lf.trueMs && lf.boundMs <= c * lf.trueMs,
      detail:
        lf.learnedMs === null
          ? 'no learned lead time'
          : `${pct(lf.errorMs ?? 0, lf.trueMs)} off; the bound, ${pct(lf.boundMs, lf.trueMs)}, proves ≤ ${c * 100} %`,
    });
  }
  return out;
}

export function poSummaryTable(r: PoWeekResult): string {
  const a = r.analysis;
  const o = r.options;
  const t = r.week.timeline;
  const lf = leadFigures(r);
  const laneCount = r.week.shelves.reduce((n, s) => n + s.lanes.length, 0);
  const scheduledLanes = r.week.shelves.reduce(
    (n, s) => n + s.lanes.filter((l) => l.sku.supplier === 'acme').length,
    0,
  );
  const cut = r.schedule.cutoffs;
  const rows: [string, string][] = [
    [
      'simulated time',
      `${o.days} days (${simLabel(0)} → ${simLabel(t.hours * 3_600_000)}), ${(t.deviceMs / 60_000).toFixed(1)} min of device time, ` +
        `≤ ${o.maxSpeed}× the wall clock`,
    ],
    ['wall time', `${(r.simWallS / 60).toFixed(1)} min simulated, ${(r.wallS / 60).toFixed(1)} min in all`],
    [
      'shelves × lanes',
      `${o.shelves} × ${o.lanes ?? 4} = ${laneCount} lanes: ${scheduledLanes} of acme (schedule), ${laneCount - scheduledLanes} of crunchy (none)`,
    ],
    [
      'schedule (wall clock, UTC)',
      `${cut.length} cut-offs every ${((cut[1] ?? cut[0] ?? 0) - (cut[0] ?? 0)) / 60_000 || 1} min, goods due ${r.options.leadMin} min after each`,
    ],
    [
      'purchase orders',
      `${a.pos.total}: ${Object.entries(a.pos.byState)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; ${a.pos.atCutoff} sent at ${a.pos.cutoffs} cut-offs, ${a.pos.urgent} urgent`,
    ],
    [
      'needs (acme) → PO lines',
      `${a.scheduled.needs} needs, ${a.scheduled.onLines} on ${a.pos.lines} lines; ${a.scheduled.matched} matched, ` +
        `${a.scheduled.missed} missed, ${a.scheduled.duplicate} duplicate, ${a.scheduled.false} false; ${a.scheduled.onDrafts} on the last draft`,
    ],
    [
      'needs (crunchy) → lane orders',
      `${a.control.needs} needs, ${a.control.orders} orders; ${a.control.matched} matched, ${a.control.missed} missed, ` +
        `${a.control.duplicate} duplicate, ${a.control.false} false`,
    ],
    [
      'webhooks',
      `${a.webhooks.poEvents} PO versions, ${a.webhooks.poKeysReceived} PO keys received, ${a.webhooks.redelivered} redelivered; ` +
        `per-lane order events ${a.webhooks.perLaneScheduled} acme, ${a.webhooks.perLaneControl} crunchy`,
    ],
    [
      'deliveries',
      `${a.pos.delivered} POs delivered in full, ${a.pos.received} received by weight; ` +
        `${r.supplier.orders.filter((x) => x.drop.appliedWallMs !== null).length} control orders delivered`,
    ],
    [
      'discrepancies',
      `${a.discrepancies.opened.length} opened for ${a.discrepancies.expected.length} lines delivered short; ` +
        `${a.discrepancies.declaredShortLines} lines shipped short as declared, none opened`,
    ],
    [
      'lead time learned vs true',
      lf.learnedMs === null
        ? 'not learned'
        : `${s1(lf.learnedMs)} learned from ${lf.n} POs vs ${s1(lf.trueMs)} true (± ${(o.lead.jitter * 100).toFixed(0)} %), ` +
          `nominal ${s1(lf.nominalMs)}: off by ${pct(lf.errorMs ?? 0, lf.trueMs)}, proven bound ${pct(lf.boundMs, lf.trueMs)}`,
    ],
    [
      'lead time samples',
      `drawn mean ${s1(lf.drawnMeanMs)}, sent → received mean ${s1(lf.measuredMeanMs)}; van waiting for a quiet lane ≤ ${s1(lf.waitMaxMs)}, ` +
        `shelf counting ≤ ${s1(lf.countingMaxMs)}; D ${s1(lf.delayMs)}`,
    ],
  ];
  return ['| measure | value |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
