import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import {
  checkRecord,
  crc32,
  decodeRecord,
  encodeRecord,
  HEADER_BYTES,
  readHeader,
} from '@shelfsense/agent/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { levelPayload, openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

describe('outbox record format', () => {
  it('CRC-32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('CRC-32 agrees with zlib on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        expect(crc32(bytes)).toBe(zlib.crc32(bytes) >>> 0);
      }),
    );
  });

  it('[outbox-record] encodes and decodes every field; any flipped byte fails the check', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.constantFrom(0 as const, 1 as const, 2 as const),
        fc.boolean(),
        fc.stringMatching(/^[a-z0-9/é]{1,40}$/),
        fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null))),
        fc.nat(),
        (seq, ts, qos, retain, topic, payload, where) => {
          const buf = encodeRecord(seq, { topic, qos, retain, ts }, JSON.stringify(payload));
          const header = readHeader(buf, 0, 1 << 20)!;
          expect(header).toEqual({ seq, ts, length: buf.length });
          expect(checkRecord(buf, 0, buf.length)).toBe(true);
          expect(decodeRecord(buf, 0, header)).toEqual({
            seq,
            ts,
            qos,
            retain,
            topic,
            payload,
            bytes: buf.length,
          });
          const i = where % buf.length;
          buf[i] = (buf[i] as number) ^ 0x01;
          const h = readHeader(buf, 0, 1 << 20);
          expect(h !== undefined && h.length === buf.length && checkRecord(buf, 0, buf.length)).toBe(false);
        },
      ),
      { seed: 20240611, numRuns: 300 },
    );
  });

  it('refuses a header whose length is shorter than the header or longer than the limit', () => {
    const buf = encodeRecord(1, { topic: 't', qos: 1, retain: false, ts: 0 }, '{}');
    expect(readHeader(buf, 0, HEADER_BYTES)).toBeUndefined();
    buf.writeUInt32LE(3, 8);
    expect(readHeader(buf, 0, 1 << 20)).toBeUndefined();
  });
});

describe('outbox recovery, property', () => {
  it('[outbox-damage-property] after random byte damage exactly the damaged records are lost and counted', async () => {
    const BASE = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 60 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (n, spots) => {
          const dir = tempDir();
          const a = await openOutbox(dir);
          const ranges: [number, number][] = [];
          let at = 0;
          for (let i = 0; i < n; i++) {
            a.append({ topic: TOPIC, payload: levelPayload(i), ts: BASE + i });
            const len = a.peek(i, 1)[0]!.bytes;
            ranges.push([at, at + len]);
            at += len;
          }
          await a.close();
          const file = join(dir, segmentFiles(dir)[0]!);
          const buf = readFileSync(file);
          const hit = new Set<number>();
          for (const off of new Set(spots.map((s) => Math.floor(s * buf.length)))) {
            buf[off] = (buf[off] as number) ^ 0xa5;
            hit.add(ranges.findIndex(([lo, hi]) => off >= lo && off < hi) + 1);
          }
          writeFileSync(file, buf);
          const b = await openOutbox(dir);
          const expected = Array.from({ length: n }, (_, i) => i + 1).filter((s) => !hit.has(s));
          const got = b.peek(0, 1000);
          expect(got.map((r) => r.seq)).toEqual(expected);
          for (const r of got) expect(r.payload).toEqual(levelPayload(r.seq - 1));
          expect(b.stats().dropped.corrupt).toBe(hit.size);
          expect(b.append({ topic: TOPIC, payload: {} })).toBe(n + 1);
          await b.close();
        },
      ),
      { seed: 424242, numRuns: 60 },
    );
  });
});
