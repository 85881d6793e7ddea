/**
 * Lead times learned per site and supplier from delivered purchase orders (sent → counted on the
 * shelf), starting from the schedule's nominal cut-off → delivery time, and cached: the rules ask
 * for them on readings, the store answers from delivered POs.
 */
import type { DeliverySchedule } from '@shelfsense/protocol';
import { learnLeadTime } from './lead-time.js';
import { nextCycle } from './schedule.js';

/** Learned lead times are read again after this long (another process may have received a PO). */
const TTL_MS = 60_000;
/** Deliveries a lead time is learned from at most, newest first. */
const SAMPLES = 50;

/** A learned lead time as the API shows it. */
export interface LearnedLeadTimeView {
  site: string;
  supplier: string;
  n: number;
  meanMs: number;
  stdMs: number;
  nominalMs: number | null;
}

export interface LeadTimeSource {
  leadTimes(site: string, supplier: string, limit: number): { sentAt: number; receivedAt: number }[];
}

export class LearnedLeadTimes {
  private readonly cache = new Map<string, { at: number; value: LearnedLeadTimeView | null }>();

  constructor(
    private readonly source: LeadTimeSource,
    private readonly schedule: (supplier: string) => DeliverySchedule | undefined,
  ) {}

  /** The lead time at the site, learned or nominal; null with neither. */
  get(site: string, supplier: string, now: number): LearnedLeadTimeView | null {
    const key = `${site}\u0000${supplier}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const schedule = this.schedule(supplier);
    const nominalMs = schedule ? nominalLeadTime(schedule, now) : null;
    const learned = learnLeadTime(
      this.source.leadTimes(site, supplier, SAMPLES),
      nominalMs === null ? {} : { prior: { meanMs: nominalMs } },
    );
    const value = learned && {
      site,
      supplier,
      n: learned.n,
      meanMs: learned.meanMs,
      stdMs: learned.stdMs,
      nominalMs,
    };
    this.cache.set(key, { at: now, value });
    return value;
  }

  /** A PO of the site and supplier was received here: learn again at the next ask. */
  forget(site: string, supplier: string): void {
    this.cache.delete(`${site}\u0000${supplier}`);
  }
}

/** The schedule's mean cut-off → delivery time over its cycles. */
export function nominalLeadTime(schedule: DeliverySchedule, now: number): number {
  const spans = schedule.cycles.map((c) => {
    const t = nextCycle({ ...schedule, cycles: [c] }, now);
    return t.deliveryAt - t.cutoffAt;
  });
  return spans.reduce((a, b) => a + b, 0) / spans.length;
}
