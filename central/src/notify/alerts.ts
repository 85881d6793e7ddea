/**
 * Alerts become notices: a stock-out, an offline lane, a sensor fault, an object left or an item
 * put back on the wrong lane, tamper or a wrong unit weight the rules open is published once,
 * keyed by the alert's id. Two ways in, both idempotent by that key: the rules engine's `alert`
 * event in this process (at once), and a scan of the alerts table for alerts opened by another
 * process (a cluster worker) or while this one was down (from `catchUpMs` before start).
 */
import type { AlertEvent, ShelfMap } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../service/part.js';
import type { AlertRow } from '../store/alerts.js';
import type { CentralStore } from '../store/repositories.js';
import type { Notice } from './notice.js';

const KINDS = {
  'stock-out': 'stock-out',
  offline: 'shelf-offline',
  'sensor-fault': 'sensor-fault',
  'foreign-object': 'shelf-object',
  'misplaced-item': 'shelf-object',
  tamper: 'tamper',
  'unit-weight': 'unit-weight',
} as const satisfies Partial<Record<AlertEvent['kind'], Notice['kind']>>;

/** The alert's fields a notice needs: an alert event, or an alert row. */
export interface AlertLike {
  id: string;
  kind: AlertEvent['kind'];
  site: string;
  shelf: string;
  lane: string;
  message: string;
  openedAt: number;
}

export const alertOfEvent = (e: AlertEvent): AlertLike => ({ ...e, id: e.alertId, openedAt: e.ts });
export const alertOfRow = (a: AlertRow): AlertLike => a;

/** The notice of an alert (null for kinds nobody is notified of: anomalies). */
export function noticeOfAlert(
  a: AlertLike,
  map: ShelfMap,
  skuName?: (sku: string) => string | undefined,
): Notice | null {
  if (!(a.kind in KINDS)) return null;
  const kind = KINDS[a.kind as keyof typeof KINDS];
  const lane = map.lane(a.site, a.shelf, a.lane);
  const place = `${a.site}/${a.shelf}/${a.lane}`;
  const item = lane ? (skuName?.(lane.sku) ?? lane.sku) : null;
  const subject = {
    'stock-out': `Stock-out${item ? ` of ${item}` : ''} at ${place}`,
    'shelf-offline': `Shelf ${a.shelf} at ${a.site} offline (lane ${a.lane})`,
    'sensor-fault': `Sensor fault at ${place}`,
    'shelf-object':
      a.kind === 'misplaced-item' ? `Item of another lane on ${place}` : `Something left on ${place}`,
    tamper: `Possible tampering at ${place}`,
    'unit-weight': `Unit weight to check at ${place}`,
  }[kind];
  const detail = lane
    ? `SKU ${lane.sku}${item !== lane.sku ? ` (${item})` : ''}, supplier ${lane.supplier}`
    : '';
  return {
    kind,
    key: `alert:${a.id}`,
    site: a.site,
    shelf: a.shelf,
    lane: a.lane,
    ...(lane ? { supplier: lane.supplier } : {}),
    subject: subject.slice(0, 200),
    text: [a.message, detail]
      .filter((l) => l !== '')
      .join('\n')
      .slice(0, 4_000),
    ts: a.openedAt,
    link: kind === 'stock-out' ? '/operator' : '/technician',
  };
}

export interface AlertWatcherOptions {
  store: CentralStore;
  map: ShelfMap;
  clock: Clock;
  /** False when the notice could not be queued (tried again at the next scan). */
  publish: (n: Notice) => boolean;
  skuName?: (sku: string) => string | undefined;
  catchUpMs: number;
  scanMs: number;
  log?: Logger;
}

/** Publishes the notices of alerts opened elsewhere or while central was down, every `scanMs`. */
export class AlertWatcher {
  private timer: NodeJS.Timeout | null = null;
  private since = 0;
  /** Alerts published by this process, so a rescan does not publish them again (the key would hold anyway). */
  private readonly seen = new Set<string>();

  constructor(private readonly o: AlertWatcherOptions) {}

  /** An alert event from the rules in this process. */
  onAlert = (e: AlertEvent): void => {
    if (e.state !== 'open') return;
    this.publish(alertOfEvent(e));
  };

  start(): void {
    this.since = this.o.clock.now() - this.o.catchUpMs;
    this.scan();
    this.timer = setInterval(() => this.scan(), Math.max(1, this.o.scanMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Alerts still live and opened since the last scan (with a margin for other processes' clocks). */
  scan(): void {
    const now = this.o.clock.now();
    try {
      for (const a of this.o.store.alerts.list({ state: 'live', from: this.since }))
        this.publish(alertOfRow(a));
      this.since = Math.max(this.since, now - Math.max(this.o.scanMs, 60_000));
    } catch (err) {
      this.o.log?.error({ err: (err as Error).message }, 'alerts not scanned for notices');
    }
  }

  private publish(a: AlertLike): void {
    if (this.seen.has(a.id)) return;
    const n = noticeOfAlert(a, this.o.map, this.o.skuName);
    if (!n) return;
    if (!this.o.publish(n)) return;
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.add(a.id);
  }
}
