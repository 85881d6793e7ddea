import { LineSplitter } from '@shelfsense/agent/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function split(chunks: Buffer[], maxLength?: number): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l), maxLength);
  for (const c of chunks) s.push(c);
  s.flush();
  return lines;
}

describe('LineSplitter (a source reading into one reused buffer)', () => {
  it('gives the same lines however the bytes are cut into reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[ -~]{0,60}$/), { maxLength: 30 }),
        fc.array(fc.nat(80), { maxLength: 40 }),
        (lines, cuts) => {
          const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
          const chunks: Buffer[] = [];
          let at = 0;
          for (const c of cuts) {
            if (at >= bytes.length) break;
            chunks.push(bytes.subarray(at, at + c));
            at += c;
          }
          chunks.push(bytes.subarray(at));
          expect(split(chunks)).toEqual(lines);
        },
      ),
    );
  });

  it('reads only [start, end) of a reused buffer: stale bytes after a short read are ignored', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const buf = Buffer.alloc(64, 'X\n'); // stale content full of newlines
    const n = buf.write('S,1,2\nS,', 0, 'latin1');
    s.push(buf, 0, n);
    expect(lines).toEqual(['S,1,2']);
    const m = buf.write('3,4\n', 0, 'latin1');
    s.push(buf, 0, m);
    expect(lines).toEqual(['S,1,2', 'S,3,4']);
  });

  it('cuts a line without a newline at maxLength and hands it on (the frame check rejects it)', () => {
    const noise = Buffer.alloc(2_000, 0x55);
    const lines = split([noise.subarray(0, 700), noise.subarray(700)], 512);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).toHaveLength(2_000);
    for (const l of lines.slice(0, -1)) expect(l.length).toBeGreaterThan(512);
    // Bounded by maxLength plus one read: nothing accumulates across reads.
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(512 + 1_300);
  });

  it('keeps every byte as one latin1 character (binary junk never throws)', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 10));
    const lines = split([all, Buffer.from('\n')]);
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0]!, 'latin1').equals(all)).toBe(true);
  });
});
