import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { levelPayload, openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

describe('outbox segments: rotation and trimming by whole files', () => {
  it('[outbox-rotate] rotates at segmentBytes; files are named by their first seq', async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 400; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    expect(files[0]).toBe('000000000000001.seg');
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(4096);
    expect(outbox.stats().segments).toBe(files.length);
    expect(outbox.peek(0, 1000).map((r) => r.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('[outbox-trim-files] trimming deletes the files wholly below the mark and keeps the rest', async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 400; i++) outbox.append({ topic: TOPIC, payload: levelPayload(i) });
    const before = segmentFiles(dir);
    const firstSeqs = before.map((f) => Number.parseInt(f, 10));
    const third = firstSeqs[3]!;
    // Trim through the record just before the 4th file: the first three files go.
    outbox.trimThrough(third - 1);
    expect(segmentFiles(dir)).toEqual(before.slice(3));
    // Trim into the middle of a file: it stays, reading starts after the mark.
    outbox.trimThrough(third + 2);
    expect(segmentFiles(dir)).toEqual(before.slice(3));
    expect(outbox.peek(0, 2).map((r) => r.seq)).toEqual([third + 3, third + 4]);
    expect(outbox.stats().firstSeq).toBe(third + 3);
    // Trimming everything keeps only the file being appended to (it is reused, not recreated).
    const last = before.at(-1);
    outbox.trimThrough(400);
    expect(segmentFiles(dir)).toEqual([last]);
    expect(outbox.stats()).toMatchObject({ queued: 0, bytes: 0, segments: 1, firstSeq: null });
    expect(outbox.append({ topic: TOPIC, payload: levelPayload(0) })).toBe(401);
    expect(outbox.peek().map((r) => r.seq)).toEqual([401]);
    // Once appends move on to a new file, the old, fully trimmed one is deleted.
    outbox.trimThrough(401);
    for (let i = 0; segmentFiles(dir)[0] === last && i < 200; i++) {
      outbox.append({ topic: TOPIC, payload: levelPayload(i) });
      outbox.trimThrough(outbox.lastSeq);
    }
    expect(segmentFiles(dir)).toHaveLength(1);
    expect(segmentFiles(dir)).not.toContain(last);
  });

  it('[outbox-reopen-mid-segment] reopening after a mid-file trim reads from the mark, not from the file start', async () => {
    const dir = tempDir();
    const a = await openOutbox(dir, { segmentBytes: 1 << 20 });
    for (let i = 0; i < 100; i++) a.append({ topic: TOPIC, payload: levelPayload(i) });
    a.trimThrough(60);
    await a.close();
    const b = await openOutbox(dir, { segmentBytes: 1 << 20 });
    expect(b.peek().map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 61 + i));
    expect(b.stats()).toMatchObject({ queued: 40, segments: 1 });
    // Appends continue in the same file.
    expect(b.append({ topic: TOPIC, payload: levelPayload(100) })).toBe(101);
    expect(segmentFiles(dir)).toEqual(['000000000000001.seg']);
  });

  it('[outbox-big-record] a record larger than a segment gets a segment of its own', async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir, { segmentBytes: 4096 });
    outbox.append({ topic: TOPIC, payload: { a: 1 } });
    outbox.append({ topic: TOPIC, payload: { big: 'z'.repeat(10_000) } });
    outbox.append({ topic: TOPIC, payload: { a: 3 } });
    expect(segmentFiles(dir)).toEqual(['000000000000001.seg', '000000000000002.seg', '000000000000003.seg']);
    expect(outbox.peek(1, 1)[0]!.payload['big']).toBe('z'.repeat(10_000));
  });
});
