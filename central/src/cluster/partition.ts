/**
 * How readings are partitioned among the workers. Agents publish on their lane topics as always
 * (`shelfsense/v1/<site>/<shelf>/<lane>/<kind>`, NATS subject `shelfsense.v1.…`), in the devices'
 * account; the workers' account imports those subjects through nats-server's `partition()`
 * mapping as `shelfsense-in.<p>.<site>.<shelf>.<lane>.<kind>`, so every subscriber in the devices'
 * account still sees the topics unchanged. The readings stream keeps `shelfsense-in.>`, and each
 * partition has a durable consumer that one worker at a time reads (its lease). `partitionOf` is
 * nats-server's own hash (FNV-1a, 32 bits, of the selected tokens joined without a separator), so
 * a worker knows which lanes its partitions hold before any of their readings arrive.
 */
import type { LaneRef } from '../store/records.js';

export const READING_KINDS = ['level', 'event', 'observation', 'calibration'] as const;
export type ReadingKind = (typeof READING_KINDS)[number];

/** The stream of partitioned readings, in the workers' account. */
export const READINGS_STREAM = 'SHELFSENSE_READINGS';
/** The first token of a partitioned reading's subject. */
export const PARTITIONED_PREFIX = 'shelfsense-in';
/** The NATS accounts of the cluster deployment: devices and people, and the workers. */
export const DEVICES_ACCOUNT = 'SHELFSENSE';
export const WORKERS_ACCOUNT = 'SHELFSENSE_WORKERS';
/** The workers' own NATS user (standard connections only, in the workers' account). */
export const WORKER_USER = 'shelfsense-worker';
export const MAX_PARTITIONS = 1024;

export function partitionOf(ref: LaneRef, partitions: number): number {
  let h = 0x811c9dc5;
  for (const token of [ref.site, ref.shelf, ref.lane]) {
    for (const byte of Buffer.from(token, 'utf8')) {
      h ^= byte;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h % partitions;
}

/** The subjects partition `p` holds. */
export function partitionFilter(p: number): string {
  return `${PARTITIONED_PREFIX}.${p}.>`;
}

/** The durable consumer of partition `p`. */
export function consumerName(p: number): string {
  return `part-${p}`;
}

export interface PartitionedSubject extends LaneRef {
  partition: number;
  kind: ReadingKind;
  /** The topic the agent published on. */
  topic: string;
}

/** `shelfsense-in.<p>.<site>.<shelf>.<lane>.<kind>` → its parts; null for anything else. */
export function parsePartitioned(subject: string): PartitionedSubject | null {
  const t = subject.split('.');
  if (t.length !== 6 || t[0] !== PARTITIONED_PREFIX) return null;
  const [, p, site, shelf, lane, kind] = t as [string, string, string, string, string, string];
  if (!/^\d{1,4}$/.test(p) || !(READING_KINDS as readonly string[]).includes(kind)) return null;
  return {
    partition: Number(p),
    site,
    shelf,
    lane,
    kind: kind as ReadingKind,
    topic: `shelfsense/v1/${site}/${shelf}/${lane}/${kind}`,
  };
}

/**
 * The two accounts' import and export lines for a NATS config: the devices' account exports the
 * reading subjects, the workers' account imports them partitioned. `users` blocks are the
 * caller's.
 */
export function partitionMappings(partitions: number): { exports: string[]; imports: string[] } {
  const exports: string[] = [];
  const imports: string[] = [];
  for (const kind of READING_KINDS) {
    const subject = `shelfsense.v1.*.*.*.${kind}`;
    exports.push(`{ stream: ${JSON.stringify(subject)} }`);
    const to = `${PARTITIONED_PREFIX}.{{partition(${partitions},1,2,3)}}.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.${kind}`;
    imports.push(
      `{ stream: { account: ${JSON.stringify(DEVICES_ACCOUNT)}, subject: ${JSON.stringify(subject)} }, to: ${JSON.stringify(to)} }`,
    );
  }
  return { exports, imports };
}
