/**
 * Agents' records on Postgres (see ../readings.ts for the rules): committed exactly once per
 * (site, agent, seq), each agent's stored high-water mark, and the holes the mark stepped over.
 *
 * Several worker processes may commit batches of the same agent at once (a partition handed over
 * mid-batch), so a commit locks its agents' mark rows first and reads everything it decides on
 * (marks, gaps, the last kept history rows) under those locks: the second commit waits, then sees
 * the first one's readings and mark. Nothing is remembered between commits.
 */
import {
  type AgentMark,
  advanceInOrder,
  type CommitResult,
  type MarkRow,
  type SeqGap,
  walkMark,
} from '../readings.js';
import type { ReadingInput } from '../records.js';
import type { AsyncRepository, ReadingsRepository } from '../repositories.js';
import type { PgDb, Row } from './db.js';
import type { Committed, PgHistoryRepo } from './history.js';

export const READINGS_SCHEMA = `
  -- Every record an agent sent, once: (site, agent, seq) is the deduplication key.
  CREATE TABLE readings (
    site TEXT NOT NULL,
    agent TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('level', 'event', 'calibration')),
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    ts BIGINT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (site, agent, seq)
  );
  CREATE INDEX readings_received ON readings (received_at);

  -- The stored high-water mark per agent: every seq <= mark is committed or given up as a gap.
  -- Its row is also the lock that serialises two processes' commits of one agent.
  CREATE TABLE agent_marks (
    site TEXT NOT NULL,
    agent TEXT NOT NULL,
    mark BIGINT NOT NULL,
    highest BIGINT NOT NULL,
    gap_since BIGINT,
    last_commit_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (site, agent)
  );

  -- Sequence ranges the mark stepped over because they never arrived.
  CREATE TABLE seq_gaps (
    site TEXT NOT NULL,
    agent TEXT NOT NULL,
    first BIGINT NOT NULL,
    last BIGINT NOT NULL,
    skipped_at BIGINT NOT NULL,
    late BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site, agent, first)
  );
`;

/** The seqs above the mark that advance() reads per query. */
const PAGE = 1_000;

export class PgReadingsRepo implements AsyncRepository<ReadingsRepository> {
  constructor(
    private readonly db: PgDb,
    private readonly history: PgHistoryRepo,
    private readonly gapTimeoutMs: number,
  ) {}

  /**
   * Commits a batch in one transaction (joining the caller's): duplicates dropped, derived rows
   * (history, events, calibrations) written, marks advanced. `now` is central's clock (for the gap
   * timeout). About six statements whatever the batch size.
   */
  async commit(batch: readonly ReadingInput[], now: number = Date.now()): Promise<CommitResult> {
    if (batch.length === 0) return { accepted: [], duplicates: 0, late: 0, marks: [] };
    return this.db.transaction(async () => {
      const marks = await this.lockMarks(batch, now);
      const result: CommitResult = { accepted: [], duplicates: 0, late: 0, marks: [] };

      // Below the mark, a record is new only inside a gap the mark stepped over.
      const below = batch.filter((r) => r.payload.seq <= (marks.get(keyOf(r)) as MarkRow).mark);
      const gapOf = below.length ? await this.gapsHolding(below) : new Map<string, number>();

      /** The first copy of each record not dropped by the mark, in input order. */
      const candidates: { r: ReadingInput; gapFirst: number | undefined }[] = [];
      const seen = new Set<string>();
      for (const r of batch) {
        const m = marks.get(keyOf(r)) as MarkRow;
        const k = seqKey(r.site, r.payload.agent, r.payload.seq);
        let gapFirst: number | undefined;
        if (r.payload.seq <= m.mark) {
          gapFirst = gapOf.get(k);
          if (gapFirst === undefined) {
            result.duplicates++;
            continue;
          }
        }
        if (seen.has(k)) {
          result.duplicates++;
          continue;
        }
        seen.add(k);
        candidates.push({ r, gapFirst });
      }

      const inserted = await this.insertReadings(
        candidates.map((c) => c.r),
        now,
      );
      const committed: Committed[] = [];
      const above = new Map<string, number[]>();
      const late = new Map<string, { site: string; agent: string; first: number; n: number }>();
      candidates.forEach(({ r, gapFirst }, i) => {
        const json = inserted[i];
        if (json === undefined) {
          result.duplicates++;
          return;
        }
        if (gapFirst !== undefined) {
          const lk = seqKey(r.site, r.payload.agent, gapFirst);
          const g = late.get(lk) ?? { site: r.site, agent: r.payload.agent, first: gapFirst, n: 0 };
          g.n++;
          late.set(lk, g);
          result.late++;
        } else {
          const key = keyOf(r);
          const seqs = above.get(key) ?? [];
          seqs.push(r.payload.seq);
          above.set(key, seqs);
        }
        committed.push({ reading: r, json });
        result.accepted.push(r);
      });

      await this.history.record(committed);

      const gaps: SeqGap[] = [];
      for (const [key, m] of marks) {
        if (!advanceInOrder(m, above.get(key) ?? [], now)) await this.advance(m, now, gaps);
        result.marks.push(toMark(m));
      }
      await this.saveMarks([...marks.values()], gaps, [...late.values()]);
      return result;
    });
  }

  /**
   * Creates the batch's agents' mark rows if missing and locks them for this transaction, in
   * (site, agent) order so two commits of overlapping agents cannot deadlock. Returns them by
   * agent in order of first appearance in the batch (the order of `CommitResult.marks`).
   */
  private async lockMarks(batch: readonly ReadingInput[], now: number): Promise<Map<string, MarkRow>> {
    const agents = new Map<string, { site: string; agent: string }>();
    for (const r of batch) agents.set(keyOf(r), { site: r.site, agent: r.payload.agent });
    const sites = [...agents.values()].map((a) => a.site);
    const names = [...agents.values()].map((a) => a.agent);
    await this.db.run(
      `INSERT INTO agent_marks (site, agent, mark, highest, gap_since, last_commit_at, updated_at)
       SELECT site, agent, 0, 0, NULL, $3, $3 FROM unnest($1::text[], $2::text[]) AS t (site, agent)
       ORDER BY site, agent
       ON CONFLICT (site, agent) DO NOTHING`,
      [sites, names, now],
    );
    const rows = await this.db.query<MarkRow & Row>(
      `SELECT m.* FROM agent_marks m JOIN unnest($1::text[], $2::text[]) AS t (site, agent)
         ON m.site = t.site AND m.agent = t.agent
       ORDER BY m.site, m.agent FOR UPDATE OF m`,
      [sites, names],
    );
    const byKey = new Map(rows.map((m) => [markKey(m.site, m.agent), m]));
    const out = new Map<string, MarkRow>();
    for (const key of agents.keys()) {
      const m = byKey.get(key);
      // Inserted above in this transaction, or existing: absent only if deleted meanwhile.
      if (!m) throw new Error(`agent mark ${key.replace('\u0000', '/')} vanished during the commit`);
      // An agent back after a silence resends from mark+1 first: give a standing gap a fresh chance.
      if (m.gap_since !== null && now - m.last_commit_at > this.gapTimeoutMs) m.gap_since = now;
      out.set(key, m);
    }
    return out;
  }

  /** For each record at or below its mark that falls in a stepped-over gap, the gap's first seq. */
  private async gapsHolding(rs: readonly ReadingInput[]): Promise<Map<string, number>> {
    const rows = await this.db.query<{ site: string; agent: string; seq: number; first: number }>(
      `SELECT t.site, t.agent, t.seq, g.first
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t (site, agent, seq)
       JOIN seq_gaps g ON g.site = t.site AND g.agent = t.agent AND t.seq BETWEEN g.first AND g.last`,
      [rs.map((r) => r.site), rs.map((r) => r.payload.agent), rs.map((r) => r.payload.seq)],
    );
    return new Map(rows.map((g) => [seqKey(g.site, g.agent, g.seq), g.first]));
  }

  /**
   * Inserts the records, skipping any already stored; returns, per input index, the payload JSON
   * of each record inserted now (undefined for one that was already there).
   */
  private async insertReadings(rs: readonly ReadingInput[], now: number): Promise<(string | undefined)[]> {
    if (rs.length === 0) return [];
    const json = rs.map((r) => JSON.stringify(r.payload));
    const rows = await this.db.query<{ site: string; agent: string; seq: number }>(
      `INSERT INTO readings (site, agent, seq, kind, shelf, lane, ts, payload, received_at)
       SELECT site, agent, seq, kind, shelf, lane, ts, payload, $9
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
         $7::bigint[], $8::text[]) AS t (site, agent, seq, kind, shelf, lane, ts, payload)
       ON CONFLICT (site, agent, seq) DO NOTHING
       RETURNING site, agent, seq`,
      [
        rs.map((r) => r.site),
        rs.map((r) => r.payload.agent),
        rs.map((r) => r.payload.seq),
        rs.map((r) => r.kind),
        rs.map((r) => r.shelf),
        rs.map((r) => r.lane),
        rs.map((r) => r.payload.ts),
        json,
        now,
      ],
    );
    const added = new Set(rows.map((r) => seqKey(r.site, r.agent, r.seq)));
    return rs.map((r, i) =>
      added.has(seqKey(r.site, r.payload.agent, r.payload.seq)) ? json[i] : undefined,
    );
  }

  /**
   * Walks the mark over contiguous committed seqs, stepping over a hole that has outlived the
   * timeout; the holes stepped over are added to `gaps` (written with the marks).
   */
  private async advance(m: MarkRow, now: number, gaps: SeqGap[]): Promise<void> {
    for (;;) {
      const seqs = (
        await this.db.query<{ seq: number }>(
          'SELECT seq FROM readings WHERE site = $1 AND agent = $2 AND seq > $3 ORDER BY seq LIMIT $4',
          [m.site, m.agent, m.mark, PAGE],
        )
      ).map((r) => r.seq);
      const step = walkMark(m, seqs, now, this.gapTimeoutMs);
      if (step.gap) gaps.push({ site: m.site, agent: m.agent, ...step.gap, skippedAt: now, late: 0 });
      if (step.done) break;
    }
    m.last_commit_at = now;
    m.updated_at = now;
  }

  /** Writes the marks, the holes they stepped over and the late arrivals, in one statement. */
  private async saveMarks(
    marks: MarkRow[],
    gaps: SeqGap[],
    late: { site: string; agent: string; first: number; n: number }[],
  ): Promise<void> {
    await this.db.run(
      `WITH g AS (
         INSERT INTO seq_gaps (site, agent, first, last, skipped_at)
         SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])
         ON CONFLICT (site, agent, first) DO NOTHING
       ), l AS (
         UPDATE seq_gaps s SET late = s.late + t.n
         FROM unnest($13::text[], $14::text[], $15::bigint[], $16::bigint[]) AS t (site, agent, first, n)
         WHERE s.site = t.site AND s.agent = t.agent AND s.first = t.first
       )
       UPDATE agent_marks m SET mark = t.mark, highest = t.highest, gap_since = t.gap_since,
         last_commit_at = t.last_commit_at, updated_at = t.updated_at
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
         $7::bigint[]) AS t (site, agent, mark, highest, gap_since, last_commit_at, updated_at)
       WHERE m.site = t.site AND m.agent = t.agent`,
      [
        marks.map((m) => m.site),
        marks.map((m) => m.agent),
        marks.map((m) => m.mark),
        marks.map((m) => m.highest),
        // node-pg sends a null element as NULL; `Param` only names arrays without nulls.
        marks.map((m) => m.gap_since) as unknown as readonly number[],
        marks.map((m) => m.last_commit_at),
        marks.map((m) => m.updated_at),
        gaps.map((g) => g.site),
        gaps.map((g) => g.agent),
        gaps.map((g) => g.first),
        gaps.map((g) => g.last),
        gaps.map((g) => g.skippedAt),
        late.map((l) => l.site),
        late.map((l) => l.agent),
        late.map((l) => l.first),
        late.map((l) => l.n),
      ],
    );
  }

  /** The stored high-water mark of an agent at a site (0 before anything is committed). */
  async mark(site: string, agent: string): Promise<number> {
    const row = await this.db.one<{ mark: number }>(
      'SELECT mark FROM agent_marks WHERE site = $1 AND agent = $2',
      [site, agent],
    );
    return row?.mark ?? 0;
  }

  async marks(): Promise<AgentMark[]> {
    const rows = await this.db.query<MarkRow & Row>('SELECT * FROM agent_marks ORDER BY site, agent');
    return rows.map(toMark);
  }

  async gaps(site: string, agent: string): Promise<SeqGap[]> {
    return this.db.query<SeqGap & Row>(
      `SELECT site, agent, first, last, skipped_at AS "skippedAt", late FROM seq_gaps
       WHERE site = $1 AND agent = $2 ORDER BY first`,
      [site, agent],
    );
  }

  /** Deletes raw readings received before `before`; the marks keep deduplicating them. */
  async prune(before: number): Promise<number> {
    return this.db.run('DELETE FROM readings WHERE received_at < $1', [before]);
  }
}

const markKey = (site: string, agent: string): string => `${site}\u0000${agent}`;
const keyOf = (r: ReadingInput): string => markKey(r.site, r.payload.agent);
const seqKey = (site: string, agent: string, seq: number): string => `${site}\u0000${agent}\u0000${seq}`;

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
