/**
 * Two worker processes committing batches of the same agent at the same moment (a partition handed
 * over mid-batch), on a real Postgres: two PgStores on one schema, each with a pool of its own.
 * The agent's mark row lock must make every record committed exactly once, the mark end at the
 * highest contiguous seq, and the derived history hold no row twice.
 */
import { PgStore } from '@shelfsense/central/pg';
import type { ReadingInput } from '@shelfsense/central/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { eventReading, LANE, levelReading } from '../../unit/central/store/fixtures.js';

const T0 = 1_700_000_000_000;
const ROUNDS = 20;
const PER_ROUND = 30;
const P1 = 'pi-1';
const P2 = 'pi-2';

let server: TestPostgres;
let a: PgStore;
let b: PgStore;

beforeAll(async () => {
  server = await startPostgres();
  const schema = server.schema();
  a = await PgStore.open({ url: server.url, schema, poolSize: 4 });
  b = await PgStore.open({ url: server.url, schema, poolSize: 4 });
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await server?.close();
});

/**
 * Seq s of an agent: a level reading on one of two lanes (the agent's own), every fifth one an
 * event; the count changes every few readings.
 */
function reading(agent: string, s: number): ReadingInput {
  const lane = { ...LANE, shelf: agent, lane: s % 2 ? 'l1' : 'l2' };
  if (s % 5 === 0) return eventReading(s, 'pick', -1, 100 - (s % 7), T0 + s * 1_000, lane, { agent });
  return levelReading(s, 100 - Math.floor(s / 3), T0 + s * 1_000, { agent }, lane);
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Postgres readings: two processes commit the same agents at once', () => {
  it('[nothing lost] every seq is committed exactly once, the mark is the highest contiguous seq, no history row twice', async () => {
    const distinct = new Set<number>();
    let accepted = 0;
    let duplicates = 0;
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const base = round * PER_ROUND;
      // The two batches overlap by a third, and one of them carries its share out of order.
      const first = range(base + 1, base + (PER_ROUND * 2) / 3);
      const second = range(base + PER_ROUND / 3 + 1, base + PER_ROUND).reverse();
      for (const s of [...first, ...second]) distinct.add(s);
      sent += 2 * (first.length + second.length);
      // Both agents in each batch, in opposite orders: the mark locks must not deadlock.
      const [ra, rb] = await Promise.all([
        a.readings.commit(
          [...first.map((s) => reading(P1, s)), ...first.map((s) => reading(P2, s))],
          T0 + round,
        ),
        b.readings.commit(
          [...second.map((s) => reading(P2, s)), ...second.map((s) => reading(P1, s))],
          T0 + round,
        ),
      ]);
      accepted += ra.accepted.length + rb.accepted.length;
      duplicates += ra.duplicates + rb.duplicates;
      // Whichever commit came second saw the first one's records: together they close the round.
      for (const agent of [P1, P2]) {
        const marks = [...ra.marks, ...rb.marks].filter((m) => m.agent === agent).map((m) => m.mark);
        expect(Math.max(...marks)).toBe(base + PER_ROUND);
      }
    }

    expect(accepted).toBe(2 * distinct.size);
    expect(accepted + duplicates).toBe(sent);
    expect((await b.readings.marks()).map((m) => [m.agent, m.mark, m.highest, m.gapSince])).toEqual([
      [P1, ROUNDS * PER_ROUND, ROUNDS * PER_ROUND, null],
      [P2, ROUNDS * PER_ROUND, ROUNDS * PER_ROUND, null],
    ]);
    expect(await a.readings.gaps(LANE.site, P1)).toEqual([]);

    const count = async (sql: string) => Number((await a.db.one<{ n: number }>(sql))?.n);
    expect(await count('SELECT count(*) AS n FROM readings')).toBe(2 * distinct.size);
    expect(
      await count(
        'SELECT count(*) AS n FROM (SELECT agent, seq FROM level_history GROUP BY 1, 2 HAVING count(*) > 1) d',
      ),
    ).toBe(0);
    const seqs = [...distinct].sort((x, y) => x - y);
    for (const agent of [P1, P2]) {
      const events = await a.history.events({ site: LANE.site, shelf: agent });
      expect(events.map((e) => e.seq).sort((x, y) => x - y)).toEqual(seqs.filter((s) => s % 5 === 0));
      for (const lane of ['l1', 'l2']) {
        const ref = { site: LANE.site, shelf: agent, lane };
        // The newest level per lane is the last one sent, whichever process committed it.
        const last = Math.max(...seqs.filter((s) => s % 5 !== 0 && (s % 2 ? 'l1' : 'l2') === lane));
        expect((await b.history.latest(ref))[0]?.level.seq).toBe(last);
        // Each kept row differs from the one kept before it, or is an interval later: none twice.
        const levels = await a.history.levels(ref);
        expect(new Set(levels.map((r) => r.seq)).size).toBe(levels.length);
      }
    }
  }, 60_000);
});
