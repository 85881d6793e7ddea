/** The outbox's counters and events, as other parts (publisher, metrics) see them. */

export type DropReason = 'maxRecords' | 'maxBytes' | 'maxAge' | 'corrupt';

export interface OutboxStats {
  /** Records waiting (not yet trimmed or dropped). */
  queued: number;
  /** Bytes of those records, headers included. */
  bytes: number;
  /** Records appended since open. */
  appended: number;
  /** Records removed by `trimThrough` since open. */
  delivered: number;
  /** Records dropped since open, by reason. */
  dropped: Record<DropReason, number>;
  /** Oldest queued sequence number, null when empty. */
  firstSeq: number | null;
  /** Last sequence number handed out (0 before the first). */
  lastSeq: number;
  trimmedThrough: number;
  segments: number;
  /** Bytes of the segment files. */
  diskBytes: number;
  fsyncs: number;
  fsyncErrors: number;
}

export interface OutboxEvents {
  appended: [seq: number];
  trimmed: [info: { through: number; count: number }];
  dropped: [info: { reason: DropReason; count: number; through: number }];
}
