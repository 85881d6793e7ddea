/** RFC 4180 CSV as the export writes it: quoting, CRLF, and a round trip through a parser. */
import { csvField, csvRow, parseCsv } from '@shelfsense/central/http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('CSV (RFC 4180)', () => {
  it('quotes a field holding a comma, a quote, CR or LF, doubling inner quotes; leaves others bare', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField(0)).toBe('0');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(true)).toBe('true');
  });

  it('ends every row with CRLF', () => {
    expect(csvRow(['ts', 'a,b', 3])).toBe('ts,"a,b",3\r\n');
  });

  it('any table of strings survives a round trip', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r', '\n', ' ', 'é') });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        (rows) => {
          // A row of one empty field is written as an empty line; the parser reads it back as [''].
          const text = rows.map((r) => csvRow(r)).join('');
          expect(parseCsv(text)).toEqual(rows);
        },
      ),
      { seed: 7, numRuns: 500 },
    );
  });
});
