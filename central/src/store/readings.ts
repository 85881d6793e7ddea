/**
 * Commits agents' records exactly once and keeps each agent's stored high-water mark.
 *
 * Deduplication: (site, agent, seq) is the primary key of `readings` — an agent id is unique within
 * its site, and the site comes from the topic the broker authorised; a record is also a duplicate when
 * its seq is at or below the agent's mark (so pruning old readings never lets a resent one in),
 * unless it falls inside a gap the mark stepped over (a late arrival, accepted and counted).
 *
 * The mark is the highest seq such that every seq up to it is committed. The agent sends in order
 * and keeps a record in its outbox until the mark passes it, so a hole normally fills within one
 * redelivery. A hole can also be permanent: the agent dropped records at its outbox bound. Then
 * the mark would stall forever and the agent could never trim its outbox, so the mark steps over a
 * hole once it has stood for `gapTimeoutMs` while the agent kept sending (the clock restarts when
 * an agent comes back after a silence, because its resend from mark+1 comes first). Each skipped
 * range is recorded in `seq_gaps`, and a record that still arrives later is accepted.
 */
import type { Db } from './database.js';
import type { HistoryRepo } from './history.js';
import type { ReadingInput } from './records.js';
import type { ReadingsRepository } from './repositories.js';

export type { LaneRef, ReadingInput } from './records.js';

export interface CommitResult {
  /** Records committed now, in input order (what the rules should see). */
  accepted: ReadingInput[];
  /** Records dropped as already committed. */
  duplicates: number;
  /** Accepted records that filled a gap the mark had already stepped over. */
  late: number;
  /** Stored high-water mark of every agent in the batch, after the commit. */
  marks: AgentMark[];
}

export interface AgentMark {
  site: string;
  agent: string;
  mark: number;
  highest: number;
  gapSince: number | null;
  updatedAt: number;
}

export interface SeqGap {
  site: string;
  agent: string;
  first: number;
  last: number;
  skippedAt: number;
  late: number;
}

/** An agent's row of `agent_marks`, as both stores keep it. */
export interface MarkRow {
  site: string;
  agent: string;
  mark: number;
  highest: number;
  gap_since: number | null;
  last_commit_at: number;
  updated_at: number;
}

export class ReadingsRepo implements ReadingsRepository {
  private readonly q;
  /**
   * Each agent's mark row as last committed. This repository is the only writer of agent_marks,
   * so the cache is exact; it is updated only after its own transaction commits (inside a
   * caller's transaction the agents' entries are dropped instead), so a rollback leaves it as the
   * database is.
   */
  private readonly markCache = new Map<string, MarkRow>();

  constructor(
    private readonly db: Db,
    private readonly history: HistoryRepo,
    private readonly gapTimeoutMs: number,
  ) {
    this.q = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO readings (site, agent, seq, kind, shelf, lane, ts, payload, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getMark: db.prepare<[string, string], MarkRow>(
        'SELECT * FROM agent_marks WHERE site = ? AND agent = ?',
      ),
      allMarks: db.prepare<[], MarkRow>('SELECT * FROM agent_marks ORDER BY site, agent'),
      putMark: db.prepare(
        `INSERT INTO agent_marks (site, agent, mark, highest, gap_since, last_commit_at, updated_at)
         VALUES (@site, @agent, @mark, @highest, @gap_since, @last_commit_at, @updated_at)
         ON CONFLICT (site, agent) DO UPDATE SET mark = excluded.mark, highest = excluded.highest,
           gap_since = excluded.gap_since, last_commit_at = excluded.last_commit_at,
           updated_at = excluded.updated_at`,
      ),
      seqsAbove: db
        .prepare<[string, string, number, number], number>(
          'SELECT seq FROM readings WHERE site = ? AND agent = ? AND seq > ? ORDER BY seq LIMIT ?',
        )
        .pluck(),
      inGap: db.prepare<[string, string, number], { first: number }>(
        'SELECT first FROM seq_gaps WHERE site = ? AND agent = ? AND ? BETWEEN first AND last',
      ),
      countLate: db.prepare('UPDATE seq_gaps SET late = late + 1 WHERE site = ? AND agent = ? AND first = ?'),
      addGap: db.prepare(
        'INSERT OR IGNORE INTO seq_gaps (site, agent, first, last, skipped_at) VALUES (?, ?, ?, ?, ?)',
      ),
      gaps: db.prepare<[string, string], SeqGap>(
        `SELECT site, agent, first, last, skipped_at AS skippedAt, late FROM seq_gaps
         WHERE site = ? AND agent = ? ORDER BY first`,
      ),
      prune: db.prepare('DELETE FROM readings WHERE received_at < ?'),
    };
  }

  /**
   * Commits a batch in one transaction: duplicates dropped, derived rows (history, events,
   * calibrations) written, marks advanced. `now` is central's clock (for the gap timeout).
   */
  commit(batch: readonly ReadingInput[], now: number = Date.now()): CommitResult {
    // Inside a caller's transaction this commit is only a savepoint the caller may still roll back.
    const nested = this.db.inTransaction;
    const marks = new Map<string, MarkRow>();
    /** Per agent, the seqs above its mark accepted in this batch (in arrival order). */
    const above = new Map<string, number[]>();
    let result: CommitResult;
    try {
      result = this.db
        .transaction(() => {
          const result: CommitResult = { accepted: [], duplicates: 0, late: 0, marks: [] };
          for (const r of batch) {
            const p = r.payload;
            const key = markKey(r.site, p.agent);
            let m = marks.get(key);
            if (!m) {
              m = this.loadMark(r.site, p.agent, now);
              marks.set(key, m);
              above.set(key, []);
            }
            let gapFirst: number | undefined;
            if (p.seq <= m.mark) {
              gapFirst = this.q.inGap.get(r.site, p.agent, p.seq)?.first;
              if (gapFirst === undefined) {
                result.duplicates++;
                continue;
              }
            }
            const json = JSON.stringify(p);
            const ins = this.q.insert.run(r.site, p.agent, p.seq, r.kind, r.shelf, r.lane, p.ts, json, now);
            if (ins.changes === 0) {
              result.duplicates++;
              continue;
            }
            if (gapFirst !== undefined) {
              this.q.countLate.run(r.site, p.agent, gapFirst);
              result.late++;
            } else (above.get(key) as number[]).push(p.seq);
            this.history.record(r, json);
            result.accepted.push(r);
          }
          for (const [key, m] of marks) {
            if (!advanceInOrder(m, above.get(key) as number[], now)) this.advance(m, now);
            this.q.putMark.run(m);
            result.marks.push(toMark(m));
          }
          return result;
        })
        .immediate();
    } catch (err) {
      // Downsampling remembers rows of this batch that the rollback took away.
      this.history.forgetKept();
      throw err;
    }
    if (nested) {
      // A cached mark the caller then rolled back would turn the resent records into "duplicates".
      for (const key of marks.keys()) this.markCache.delete(key);
      this.history.forgetKept();
    } else for (const [key, m] of marks) this.markCache.set(key, m);
    return result;
  }

  /** The stored high-water mark of an agent at a site (0 before anything is committed). */
  mark(site: string, agent: string): number {
    return this.q.getMark.get(site, agent)?.mark ?? 0;
  }

  marks(): AgentMark[] {
    return this.q.allMarks.all().map(toMark);
  }

  gaps(site: string, agent: string): SeqGap[] {
    return this.q.gaps.all(site, agent);
  }

  /** Deletes raw readings received before `before`; the marks keep deduplicating them. */
  prune(before: number): number {
    return this.q.prune.run(before).changes;
  }

  private loadMark(site: string, agent: string, now: number): MarkRow {
    const cached = this.markCache.get(markKey(site, agent));
    const row = cached ? { ...cached } : this.q.getMark.get(site, agent);
    if (!row) {
      return { site, agent, mark: 0, highest: 0, gap_since: null, last_commit_at: now, updated_at: now };
    }
    // An agent back after a silence resends from mark+1 first: give a standing gap a fresh chance.
    if (row.gap_since !== null && now - row.last_commit_at > this.gapTimeoutMs) row.gap_since = now;
    return row;
  }

  /** Walks the mark over contiguous seqs, stepping over a hole that has outlived the timeout. */
  private advance(m: MarkRow, now: number): void {
    const page = 1_000;
    for (;;) {
      const step = walkMark(m, this.q.seqsAbove.all(m.site, m.agent, m.mark, page), now, this.gapTimeoutMs);
      if (step.gap) this.q.addGap.run(m.site, m.agent, step.gap.first, step.gap.last, now);
      if (step.done) break;
    }
    m.last_commit_at = now;
    m.updated_at = now;
  }
}

const markKey = (site: string, agent: string): string => `${site}\u0000${agent}`;

function toMark(r: MarkRow): AgentMark {
  return {
    site: r.site,
    agent: r.agent,
    mark: r.mark,
    highest: r.highest,
    gapSince: r.gap_since,
    updatedAt: r.updated_at,
  };
}

/**
 * One page of the agent's committed seqs above its mark, in order: walks the mark over the
 * contiguous ones, and over a hole that has outlived `gapTimeoutMs` (returned, for the caller to
 * record). `done: false` asks for the next page, read from the new mark.
 */
export function walkMark(
  m: MarkRow,
  seqs: readonly number[],
  now: number,
  gapTimeoutMs: number,
): { done: boolean; gap: { first: number; last: number } | null } {
  if (seqs.length === 0) {
    m.gap_since = null;
    return { done: true, gap: null };
  }
  let i = 0;
  while (i < seqs.length && seqs[i] === m.mark + 1) {
    m.mark++;
    i++;
  }
  // A hole's age counts from when it became the lowest one.
  if (i > 0) m.gap_since = null;
  m.highest = Math.max(m.highest, seqs[seqs.length - 1] as number);
  if (i === seqs.length) return { done: false, gap: null }; // the whole page was contiguous: read on
  // A hole: the next committed seq is above mark + 1.
  const next = seqs[i] as number;
  if (m.gap_since === null) m.gap_since = now;
  if (now - m.gap_since < gapTimeoutMs) return { done: true, gap: null };
  const gap = { first: m.mark + 1, last: next - 1 };
  m.mark = next - 1;
  m.gap_since = now; // a further hole starts its own clock
  return { done: false, gap };
}

/**
 * The usual case without a query: nothing was committed above the mark before (highest ≤ mark:
 * advance() leaves highest above the mark whenever a committed seq is), and this batch brought
 * exactly mark+1, mark+2, … in order. Returns false to leave anything else to advance().
 */
export function advanceInOrder(m: MarkRow, seqs: readonly number[], now: number): boolean {
  if (m.highest > m.mark) return false;
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== m.mark + 1 + i) return false;
  m.mark += seqs.length;
  m.highest = Math.max(m.highest, m.mark);
  m.gap_since = null;
  m.last_commit_at = now;
  m.updated_at = now;
  return true;
}
