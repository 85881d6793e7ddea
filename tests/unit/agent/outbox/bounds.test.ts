import type { DropReason } from '@shelfsense/agent';
import { describe, expect, it } from 'vitest';
import { levelPayload, openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

const seqsOf = (recs: { seq: number }[]): number[] => recs.map((r) => r.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('outbox bounds: the oldest records are dropped and counted, and only when a bound is hit', () => {
  it('[outbox-bound-count] maxRecords keeps the newest N and counts every drop', async () => {
    const outbox = await openOutbox(tempDir(), { maxRecords: 25, segmentBytes: 4096 });
    const events: { reason: DropReason; count: number }[] = [];
    outbox.on('dropped', ({ reason, count }) => events.push({ reason, count }));
    for (let i = 0; i < 25; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(outbox.stats().dropped.maxRecords).toBe(0);
    for (let i = 25; i < 100; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(seqsOf(outbox.peek(0, 1000))).toEqual(range(76, 100));
    const s = outbox.stats();
    expect(s).toMatchObject({ queued: 25, appended: 100, delivered: 0, firstSeq: 76, trimmedThrough: 75 });
    expect(s.dropped).toEqual({ maxRecords: 75, maxBytes: 0, maxAge: 0, corrupt: 0 });
    expect(events.reduce((n, e) => n + e.count, 0)).toBe(75);
  });

  it('[outbox-bound-count-reopen] a lower maxRecords at reopen drops the excess at once', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 200; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    await a.close();
    const b = await openOutbox(dir, { maxRecords: 10, segmentBytes: 4096 });
    expect(seqsOf(b.peek(0, 1000))).toEqual(range(191, 200));
    expect(b.stats().dropped.maxRecords).toBe(190);
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(2);
  });

  it('[outbox-bound-bytes] maxBytes keeps the queued bytes under the bound, oldest out first', async () => {
    const outbox = await openOutbox(tempDir(), { maxBytes: 10_000, segmentBytes: 4096 });
    const payload = { fill: 'y'.repeat(200) };
    for (let i = 0; i < 200; i++) outbox.append({ topic: TOPIC, payload });
    const s = outbox.stats();
    expect(s.bytes).toBeLessThanOrEqual(10_000);
    const size = outbox.peek(0, 1)[0]!.bytes;
    // Records are all the same size: exactly as many as fit are kept.
    expect(s.queued).toBe(Math.floor(10_000 / size));
    expect(s.dropped.maxBytes).toBe(200 - s.queued);
    expect(seqsOf(outbox.peek(0, 1000))).toEqual(range(200 - s.queued + 1, 200));
    // Deleting whole files keeps the disk within one segment of the bound.
    expect(s.diskBytes).toBeLessThanOrEqual(10_000 + 4096);
  });

  it('[outbox-bound-age] records older than maxAgeMs by their ts are dropped on the check', async () => {
    let now = 1_000_000;
    const outbox = await openOutbox(tempDir(), { maxAgeMs: 1000, ageCheckMs: 3_600_000, now: () => now });
    for (let i = 0; i < 10; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i), ts: now + i * 100 });
    expect(outbox.checkAge()).toBe(0);
    now += 1000 + 450; // records with ts < now - 1000 (i = 0..4) are too old
    expect(outbox.checkAge()).toBe(5);
    expect(seqsOf(outbox.peek(0, 100))).toEqual(range(6, 10));
    expect(outbox.stats().dropped).toMatchObject({ maxAge: 5, maxRecords: 0, maxBytes: 0 });
    now += 1_000_000;
    expect(outbox.checkAge()).toBe(5);
    expect(outbox.stats()).toMatchObject({ queued: 0, firstSeq: null });
  });

  it('[outbox-bound-age-timer] the age bound is also enforced on its own timer', async () => {
    let now = 5_000_000;
    const outbox = await openOutbox(tempDir(), { maxAgeMs: 50, ageCheckMs: 5, now: () => now });
    outbox.append({ topic: TOPIC, payload: levelPayload(0) });
    const dropped = new Promise((resolve) => outbox.once('dropped', resolve));
    now += 60;
    expect(await dropped).toMatchObject({ reason: 'maxAge', count: 1, through: 1 });
  });

  it('[outbox-bound-none] within every bound nothing is ever dropped', async () => {
    const outbox = await openOutbox(tempDir(), { maxRecords: 1000, maxBytes: 1_000_000, segmentBytes: 4096 });
    for (let i = 0; i < 1000; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    outbox.checkAge();
    expect(outbox.stats().dropped).toEqual({ maxRecords: 0, maxBytes: 0, maxAge: 0, corrupt: 0 });
    expect(outbox.stats().queued).toBe(1000);
  });

  it('[outbox-bound-then-trim] drops and trims share one mark: a later trim counts only what it removes', async () => {
    const outbox = await openOutbox(tempDir(), { maxRecords: 5 });
    for (let i = 0; i < 8; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    expect(outbox.trimmedThrough).toBe(3);
    expect(outbox.trimThrough(5)).toBe(2);
    expect(outbox.stats()).toMatchObject({ delivered: 2, queued: 3, dropped: { maxRecords: 3 } });
  });
});
