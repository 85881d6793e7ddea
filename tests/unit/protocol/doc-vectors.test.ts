/**
 * The test vectors in docs/serial-protocol.md are exact: each line is its body with the checksum
 * the encoder computes, and each decodes as a shelf's line or a host's command.
 */
import { readFileSync } from 'node:fs';
import { crc16, decodeCommandLine, decodeDeviceLine, frameLine } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

const DOC = new URL('../../../docs/serial-protocol.md', import.meta.url);

function vectors(): string[] {
  const text = readFileSync(DOC, 'utf8');
  const block = text.slice(text.indexOf('<!-- test-vectors -->'), text.indexOf('<!-- /test-vectors -->'));
  return [...block.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => (m[1] as string).replace(/\\n$/, '\n'));
}

describe('docs/serial-protocol.md test vectors', () => {
  const lines = vectors();

  it('lists the vectors', () => {
    expect(lines.length).toBeGreaterThanOrEqual(16);
  });

  it.each(lines)('%j carries the checksum of its body', (line) => {
    const body = line.slice(0, line.lastIndexOf('*'));
    expect(frameLine(body)).toBe(line);
  });

  it.each(lines.filter((l) => !l.startsWith('123456789')))('%j decodes', (line) => {
    const host = /^ID\*|^(PING|RATE|SERIAL),/.test(line);
    if (host) expect(() => decodeCommandLine(line)).not.toThrow();
    else expect(() => decodeDeviceLine(line)).not.toThrow();
  });

  it('the check value and the longest lines are as the text says', () => {
    expect(crc16('123456789').toString(16).toUpperCase()).toBe('29B1');
    const longest = (ls: string[]) => ls.reduce((a, b) => (b.length > a.length ? b : a));
    const v1 = longest(lines.filter((l) => !l.includes(',T')));
    expect(v1.length).toBe(101);
    expect(v1.length * 80).toBe(8_080);
    expect(longest(lines).length).toBe(108);
  });

  it('the v1.1 vectors carry the temperatures their rows name', () => {
    const temps = lines.filter((l) => l.includes(',T')).map((l) => decodeDeviceLine(l));
    expect(temps.map((f) => (f.type === 'sample' ? f.tempC : null))).toEqual([23.5, -5.12, 0, 125, -55]);
    // Dropping the field leaves a v1 line with the same channels.
    for (const l of lines.filter((x) => x.includes(',T'))) {
      const body = l.slice(0, l.indexOf(',T'));
      const v1 = decodeDeviceLine(frameLine(body));
      expect(v1).toEqual({ ...decodeDeviceLine(l), tempC: undefined });
      expect('tempC' in v1).toBe(false);
    }
  });
});
