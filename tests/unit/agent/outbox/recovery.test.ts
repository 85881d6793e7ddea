import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecord } from '@shelfsense/agent/testing';
import { describe, expect, it } from 'vitest';
import { levelPayload, openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

const BASE = Date.now();
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Fills an outbox with `n` records, closes it, returns the byte offset where each record starts. */
async function filled(dir: string, n: number, segmentBytes = 1 << 20): Promise<number[]> {
  const outbox = await openOutbox(dir, { segmentBytes });
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    outbox.append({ topic: TOPIC, payload: levelPayload(i), ts: BASE + i });
    offsets.push(at);
    at += outbox.peek(i, 1)[0]!.bytes;
  }
  await outbox.close();
  return offsets;
}

function flip(file: string, offset: number): void {
  const buf = readFileSync(file);
  buf[offset] = (buf[offset] as number) ^ 0x5a;
  writeFileSync(file, buf);
}

function setMeta(dir: string, patch: Record<string, unknown>): void {
  const file = join(dir, 'outbox.meta.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }));
}

describe('outbox recovery: damage is detected, cut out and counted, never mis-read', () => {
  it('[outbox-torn-tail] a partial record at the end is truncated; earlier records intact; appends go on', async () => {
    const dir = tempDir();
    await filled(dir, 20);
    const seg = join(dir, segmentFiles(dir)[0]!);
    const goodSize = statSync(seg).size;
    // The first 40 bytes of what would have been record 21: a write cut by a power loss.
    const next = encodeRecord(
      21,
      { topic: TOPIC, qos: 1, retain: false, ts: BASE },
      JSON.stringify(levelPayload(21)),
    );
    appendFileSync(seg, next.subarray(0, 40));
    const outbox = await openOutbox(dir);
    expect(statSync(seg).size).toBe(goodSize);
    expect(outbox.peek(0, 100).map((r) => r.seq)).toEqual(range(1, 20));
    expect(outbox.peek(0, 100)[19]?.payload).toEqual(levelPayload(19));
    expect(outbox.stats().dropped.corrupt).toBe(1);
    expect(outbox.append({ topic: TOPIC, payload: { after: true } })).toBe(21);
    await outbox.close();
    const again = await openOutbox(dir);
    expect(again.peek(0, 100).map((r) => r.seq)).toEqual(range(1, 21));
    expect(again.stats().dropped.corrupt).toBe(0);
  });

  it('[outbox-cut-record] a file cut inside its last record loses that record only, and its number is not reused', async () => {
    const dir = tempDir();
    await filled(dir, 10);
    const seg = join(dir, segmentFiles(dir)[0]!);
    truncateSync(seg, statSync(seg).size - 7);
    const outbox = await openOutbox(dir);
    expect(outbox.peek(0, 100).map((r) => r.seq)).toEqual(range(1, 9));
    expect(outbox.stats().dropped.corrupt).toBe(1);
    expect(outbox.append({ topic: TOPIC, payload: {} })).toBe(11);
  });

  it('[outbox-flip-middle] a flipped byte inside a record loses that record; the ones after it are kept', async () => {
    const dir = tempDir();
    const offsets = await filled(dir, 30);
    const seg = join(dir, segmentFiles(dir)[0]!);
    flip(seg, offsets[12]! + 40); // inside record 13's body
    flip(seg, offsets[20]! + 9); // record 21's length field
    const outbox = await openOutbox(dir);
    const seqs = outbox.peek(0, 100).map((r) => r.seq);
    expect(seqs).toEqual([...range(1, 12), ...range(14, 20), ...range(22, 30)]);
    for (const r of outbox.peek(0, 100)) expect(r.payload).toEqual(levelPayload(r.seq - 1));
    expect(outbox.stats()).toMatchObject({ queued: 28, dropped: { corrupt: 2 } });
    // Trimming and reading across the damaged ranges work, and appends go on.
    expect(outbox.trimThrough(15)).toBe(14);
    expect(outbox.peek(0, 3).map((r) => r.seq)).toEqual([16, 17, 18]);
    expect(outbox.append({ topic: TOPIC, payload: {} })).toBe(31);
    expect(outbox.peek(29, 10).map((r) => r.seq)).toEqual([30, 31]);
  });

  it('[outbox-flip-magic] damage to the record marker itself is found and skipped too', async () => {
    const dir = tempDir();
    const offsets = await filled(dir, 5);
    const seg = join(dir, segmentFiles(dir)[0]!);
    flip(seg, offsets[0]!);
    flip(seg, offsets[2]! + 4); // CRC field of record 3
    const outbox = await openOutbox(dir);
    expect(outbox.peek(0, 100).map((r) => r.seq)).toEqual([2, 4, 5]);
    expect(outbox.stats().dropped.corrupt).toBe(2);
  });

  it('[outbox-zero-tail] a tail of zeros (a file extended but never written) is cut off', async () => {
    const dir = tempDir();
    await filled(dir, 8);
    const seg = join(dir, segmentFiles(dir)[0]!);
    const goodSize = statSync(seg).size;
    appendFileSync(seg, Buffer.alloc(4096));
    const outbox = await openOutbox(dir);
    expect(statSync(seg).size).toBe(goodSize);
    expect(outbox.peek(0, 100).map((r) => r.seq)).toEqual(range(1, 8));
  });

  it('[outbox-garbage-segment] a segment of pure garbage is deleted; the other segments are read', async () => {
    const dir = tempDir();
    await filled(dir, 200, 4096);
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    const victim = join(dir, files[1]!);
    const firstOfNext = Number.parseInt(files[2]!, 10);
    writeFileSync(victim, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff)));
    const outbox = await openOutbox(dir, { segmentBytes: 4096 });
    const seqs = outbox.peek(0, 1000).map((r) => r.seq);
    const firstOfVictim = Number.parseInt(files[1]!, 10);
    expect(seqs).toEqual([...range(1, firstOfVictim - 1), ...range(firstOfNext, 200)]);
    expect(segmentFiles(dir)).not.toContain(files[1]);
    expect(outbox.stats().dropped.corrupt).toBeGreaterThanOrEqual(1);
  });

  it('[outbox-damaged-middle-tail] a cut tail in an older segment is bounded by the next segment', async () => {
    const dir = tempDir();
    await filled(dir, 200, 4096);
    const files = segmentFiles(dir);
    const first = join(dir, files[0]!);
    const nextFirst = Number.parseInt(files[1]!, 10);
    truncateSync(first, statSync(first).size - 3);
    const outbox = await openOutbox(dir, { segmentBytes: 4096 });
    const seqs = outbox.peek(0, 1000).map((r) => r.seq);
    expect(seqs).toEqual([...range(1, nextFirst - 2), ...range(nextFirst, 200)]);
    expect(outbox.stats().dropped.corrupt).toBe(1);
  });

  it('[outbox-trimmed-damage] damage below the trim mark is repaired but not counted as a drop', async () => {
    const dir = tempDir();
    const offsets = await filled(dir, 10);
    const a = await openOutbox(dir);
    a.trimThrough(5);
    await a.close();
    flip(join(dir, segmentFiles(dir)[0]!), offsets[2]! + 30);
    const b = await openOutbox(dir);
    expect(b.peek().map((r) => r.seq)).toEqual(range(6, 10));
    expect(b.stats().dropped.corrupt).toBe(0);
  });

  it('[outbox-runtime-damage] bytes damaged while open are detected on read, skipped and counted', async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const offsets: number[] = [];
    let at = 0;
    for (let i = 0; i < 10; i++) {
      outbox.append({ topic: TOPIC, payload: levelPayload(i) });
      offsets.push(at);
      at += outbox.peek(i, 1)[0]!.bytes;
    }
    flip(join(dir, segmentFiles(dir)[0]!), offsets[4]! + 35);
    expect(outbox.peek(0, 100).map((r) => r.seq)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(outbox.stats()).toMatchObject({ queued: 9, dropped: { corrupt: 1 } });
    expect(outbox.trimThrough(10)).toBe(9);
  });

  it('[outbox-bad-meta] an unreadable meta file is survived: segments are read and numbering moves ahead', async () => {
    const dir = tempDir();
    await filled(dir, 5);
    writeFileSync(join(dir, 'outbox.meta.json'), '{"version": 1, "nextSeq": "x"');
    const outbox = await openOutbox(dir, { powerLossSeqSkip: 1000 });
    expect(outbox.peek().map((r) => r.seq)).toEqual(range(1, 5));
    expect(outbox.append({ topic: TOPIC, payload: {} })).toBe(1006);
  });

  it('[outbox-power-loss] an unclean stop in an earlier boot skips numbering ahead, so no number is reused', async () => {
    const dir = tempDir();
    await filled(dir, 10);
    // As after a power cut: the meta file says open, the last records never reached the disk.
    setMeta(dir, { open: true, nextSeq: 4, bootId: 'boot-0' });
    const seg = join(dir, segmentFiles(dir)[0]!);
    truncateSync(seg, Math.floor(statSync(seg).size / 2));
    const outbox = await openOutbox(dir, { powerLossSeqSkip: 500 });
    const kept = outbox.peek().map((r) => r.seq);
    expect(kept[0]).toBe(1);
    expect(kept.at(-1)).toBeLessThan(10);
    expect(outbox.append({ topic: TOPIC, payload: {} })).toBe(kept.at(-1)! + 1 + 500);
  });

  it('[outbox-kill-same-boot] an unclean stop in the same boot (a process kill) does not skip numbers', async () => {
    const dir = tempDir();
    await filled(dir, 10);
    setMeta(dir, { open: true, nextSeq: 4 });
    const outbox = await openOutbox(dir, { powerLossSeqSkip: 500 });
    expect(outbox.append({ topic: TOPIC, payload: {} })).toBe(11);
  });
});
