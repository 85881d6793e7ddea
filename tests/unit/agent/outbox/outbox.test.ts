import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutboxErrorCodes } from '@shelfsense/agent';
import { ErrorCodes, isShelfError } from '@shelfsense/protocol';
import { describe, expect, it, vi } from 'vitest';
import { levelPayload, openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('outbox: order, sequence numbers, timestamps', () => {
  it('[outbox-order] returns records in append order with seq from 1 and every field as given', async () => {
    const outbox = await openOutbox(tempDir());
    const seqs: number[] = [];
    for (let i = 0; i < 50; i++) {
      seqs.push(
        outbox.append({
          topic: `${TOPIC}${i % 3}`,
          payload: levelPayload(i),
          qos: 1,
          retain: i % 2 === 0,
          ts: 1_000 + i,
        }),
      );
    }
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const recs = outbox.peek(0, 1000);
    expect(recs.map((r) => r.seq)).toEqual(seqs);
    recs.forEach((r, i) => {
      expect(r).toMatchObject({
        topic: `${TOPIC}${i % 3}`,
        payload: levelPayload(i),
        qos: 1,
        retain: i % 2 === 0,
      });
      expect(r.ts).toBe(1_000 + i);
    });
  });

  it('[outbox-ts] keeps the original timestamp: explicit ts, else payload.ts, else the clock', async () => {
    const outbox = await openOutbox(tempDir(), { now: () => 777_000 });
    outbox.append({ topic: TOPIC, payload: { ts: 5 }, ts: 42 });
    outbox.append({ topic: TOPIC, payload: { ts: 1_700_000_000_123 } });
    outbox.append({ topic: TOPIC, payload: { note: 'no ts' } });
    expect(outbox.peek(0, 10).map((r) => r.ts)).toEqual([42, 1_700_000_000_123, 777_000]);
    expect(outbox.peek(0, 10)[0]?.payload).toEqual({ ts: 5 });
  });

  it('[outbox-peek] peeks after any seq, in batches, and reads on from where it stopped', async () => {
    const outbox = await openOutbox(tempDir(), { segmentBytes: 4096 });
    for (let i = 0; i < 300; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(outbox.peek(117, 3).map((r) => r.seq)).toEqual([118, 119, 120]);
    const all: number[] = [];
    let after = 0;
    for (;;) {
      const batch = outbox.peek(after, 7);
      if (batch.length === 0) break;
      all.push(...batch.map((r) => r.seq));
      after = batch.at(-1)!.seq;
    }
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(outbox.peek(300, 10)).toEqual([]);
    expect(outbox.peek(5, 0)).toEqual([]);
  });

  it('[outbox-seq-reopen] sequence numbers continue across a clean reopen', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    for (let i = 0; i < 10; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    await a.close();
    const b = await openOutbox(dir);
    expect(b.lastSeq).toBe(10);
    expect(b.append({ topic: TOPIC, payload: levelPayload(10) })).toBe(11);
    expect(b.peek(0, 100).map((r) => r.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(b.stats()).toMatchObject({ queued: 11, appended: 1, firstSeq: 1, lastSeq: 11 });
  });

  it('[outbox-seq-trimmed] after everything is trimmed and the files deleted, numbering still goes on', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    for (let i = 0; i < 20; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(a.trimThrough(20)).toBe(20);
    expect(a.stats()).toMatchObject({
      queued: 0,
      bytes: 0,
      delivered: 20,
      firstSeq: null,
      trimmedThrough: 20,
    });
    await a.close();
    const b = await openOutbox(dir);
    // Reopening deletes the fully trimmed files: only the meta file knows the numbering now.
    expect(segmentFiles(dir)).toEqual([]);
    expect(b.append({ topic: TOPIC, payload: levelPayload(0) })).toBe(21);
    expect(b.peek().map((r) => r.seq)).toEqual([21]);
  });

  it('[outbox-trim] trimThrough removes up to the mark, is idempotent and survives reopen', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    const trimmed: unknown[] = [];
    a.on('trimmed', (info) => trimmed.push(info));
    for (let i = 0; i < 10; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(a.trimThrough(4)).toBe(4);
    expect(a.trimThrough(4)).toBe(0);
    expect(a.trimThrough(2)).toBe(0);
    expect(trimmed).toEqual([{ through: 4, count: 4 }]);
    expect(a.peek().map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(a.peek(0, 3).map((r) => r.seq)).toEqual([5, 6, 7]);
    await a.close();
    const b = await openOutbox(dir);
    expect(b.trimmedThrough).toBe(4);
    expect(b.peek().map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(b.stats()).toMatchObject({ queued: 6, firstSeq: 5 });
  });

  it('[outbox-trim-ahead] a stored mark above the last number moves numbering past it', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    a.append({ topic: TOPIC, payload: levelPayload(0) });
    expect(a.trimThrough(500)).toBe(1);
    expect(a.append({ topic: TOPIC, payload: levelPayload(1) })).toBe(501);
    await a.close();
    const b = await openOutbox(dir);
    expect(b.append({ topic: TOPIC, payload: levelPayload(2) })).toBe(502);
  });

  it('[outbox-follow] follow() yields the backlog then waits for appends, and ends on abort', async () => {
    const outbox = await openOutbox(tempDir());
    for (let i = 0; i < 5; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    const ac = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      for await (const batch of outbox.follow(0, { batch: 2, signal: ac.signal })) {
        seen.push(...batch.map((r) => r.seq));
        if (seen.length === 5) outbox.append({ topic: TOPIC, payload: levelPayload(5) });
        if (seen.length === 6) ac.abort();
      }
    })();
    await done;
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const woken = new Promise<number>((resolve) => outbox.once('appended', resolve));
    outbox.append({ topic: TOPIC, payload: levelPayload(7) });
    expect(await woken).toBe(7);
  });

  it('[outbox-follow-close] a waiting follower ends when the outbox closes', async () => {
    const outbox = await openOutbox(tempDir());
    const it = outbox.follow();
    const next = it.next();
    await outbox.close();
    expect((await next).done).toBe(true);
    expect(await outbox.waitForAppend(0)).toBe(false);
  });

  it('[outbox-invalid] rejects bad records with a code that names the field, and stores nothing', async () => {
    const outbox = await openOutbox(tempDir(), { maxRecordBytes: 1024 });
    expect(codeOf(() => outbox.append({ topic: 'shelfsense/v1/+/x', payload: {} }))).toBe(ErrorCodes.INVALID);
    expect(codeOf(() => outbox.append({ topic: TOPIC, payload: [] as never }))).toBe(ErrorCodes.INVALID);
    expect(codeOf(() => outbox.append({ topic: TOPIC, payload: { big: 'x'.repeat(2000) } }))).toBe(
      ErrorCodes.INVALID,
    );
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(codeOf(() => outbox.append({ topic: TOPIC, payload: circular }))).toBe(ErrorCodes.INVALID);
    expect(codeOf(() => outbox.append({ topic: TOPIC, payload: {}, qos: 3 as never }))).toBe(
      ErrorCodes.INVALID,
    );
    try {
      outbox.append({ topic: '', payload: {} });
    } catch (err) {
      expect(isShelfError(err) && err.issues[0]?.path).toBe('topic');
    }
    expect(codeOf(() => outbox.trimThrough(-1))).toBe(ErrorCodes.INVALID);
    expect(outbox.stats()).toMatchObject({ queued: 0, appended: 0, lastSeq: 0 });
  });

  it('[outbox-options] invalid options are refused naming the field', async () => {
    await expect(openOutbox(tempDir(), { segmentBytes: 10 })).rejects.toMatchObject({
      code: ErrorCodes.INVALID,
      issues: [expect.objectContaining({ path: 'segmentBytes' })],
    });
  });

  it('[outbox-lock] a second outbox on the same directory is refused; a closed one is not', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    await expect(openOutbox(dir)).rejects.toMatchObject({ code: OutboxErrorCodes.LOCKED });
    await a.close();
    const b = await openOutbox(dir);
    expect(codeOf(() => a.append({ topic: TOPIC, payload: {} }))).toBe(OutboxErrorCodes.CLOSED);
    b.append({ topic: TOPIC, payload: {} });
  });

  it('[outbox-lock-stale] a lock left by a live pid of an earlier boot is stale; of this boot it is not', async () => {
    const dir = tempDir();
    // process.ppid is alive: as if the pid in the lock now belonged to another program.
    writeFileSync(join(dir, 'outbox.lock'), `${process.ppid} boot-1\n`);
    await expect(openOutbox(dir)).rejects.toMatchObject({ code: OutboxErrorCodes.LOCKED });
    writeFileSync(join(dir, 'outbox.lock'), `${process.ppid} boot-0\n`);
    const outbox = await openOutbox(dir);
    expect(readFileSync(join(dir, 'outbox.lock'), 'utf8')).toBe(`${process.pid} boot-1\n`);
    await outbox.close();
    // A pid that no longer runs is stale in any boot.
    writeFileSync(join(dir, 'outbox.lock'), '2147483646 boot-1\n');
    await openOutbox(dir);
  });

  it('[outbox-limits-later] lowering the size limits later never turns stored records into damage', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    a.append({ topic: TOPIC, payload: { big: 'b'.repeat(5000) } });
    await a.close();
    const b = await openOutbox(dir, { maxRecordBytes: 256, maxBytes: 100_000 });
    expect(b.peek()[0]?.payload['big']).toBe('b'.repeat(5000));
    expect(b.stats().dropped.corrupt).toBe(0);
  });

  it('[outbox-fsync] fsync=append syncs every record, interval syncs soon after, none leaves it to the OS', async () => {
    const every = await openOutbox(tempDir(), { fsync: 'append' });
    for (let i = 0; i < 5; i++) every.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(every.stats().fsyncs).toBe(5);
    const interval = await openOutbox(tempDir(), { fsync: 'interval', fsyncIntervalMs: 2 });
    for (let i = 0; i < 5; i++) interval.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(interval.stats().fsyncs).toBe(0);
    await vi.waitFor(() => expect(interval.stats().fsyncs).toBeGreaterThan(0), {
      timeout: 5000,
      interval: 5,
    });
    const none = await openOutbox(tempDir(), { fsync: 'none' });
    for (let i = 0; i < 5; i++) none.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(none.stats().fsyncs).toBe(0);
    none.flush();
    expect(none.stats().fsyncs).toBe(1);
  });

  it('[outbox-meta] the meta file records the next number and the mark, and a clean close', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir);
    for (let i = 0; i < 3; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    a.trimThrough(2);
    await a.close();
    const meta = JSON.parse(readFileSync(join(dir, 'outbox.meta.json'), 'utf8'));
    expect(meta).toMatchObject({ version: 1, nextSeq: 4, trimmedThrough: 2, open: false, bootId: 'boot-1' });
  });
});
