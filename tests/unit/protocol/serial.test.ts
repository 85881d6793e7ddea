import {
  crc16,
  type DeviceFrame,
  decodeCommandLine,
  decodeDeviceLine,
  ErrorCodes,
  encodeCommand,
  encodeDeviceFrame,
  frameLine,
  type HostCommand,
  isShelfError,
  RAW_MAX,
  RAW_MIN,
  TEMP_CENTI_MAX,
  TEMP_CENTI_MIN,
  tempField,
} from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const rate = fc.constantFrom(10 as const, 80 as const);
const sample = fc.record({
  type: fc.constant('sample' as const),
  seq: fc.integer({ min: 0, max: 4_294_967_295 }),
  deviceMs: fc.integer({ min: 0, max: 4_294_967_295 }),
  raw: fc.array(fc.integer({ min: RAW_MIN, max: RAW_MAX }), { minLength: 1, maxLength: 8 }),
});
/** A v1.1 sample: the temperature is a whole number of centi-degrees in the DS18B20's range. */
const sampleWithTemp = fc
  .tuple(sample, fc.integer({ min: TEMP_CENTI_MIN, max: TEMP_CENTI_MAX }))
  .map(([f, centi]) => ({ ...f, tempC: centi / 100 }));
const ident = fc.record({
  type: fc.constant('identity' as const),
  serial: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
  firmware: fc.stringMatching(/^[A-Za-z0-9.+_-]{1,24}$/),
  channels: fc.integer({ min: 1, max: 8 }),
  rate,
});
const deviceFrame: fc.Arbitrary<DeviceFrame> = fc.oneof(
  sample,
  sampleWithTemp,
  ident,
  fc.record({ type: fc.constant('pong' as const), token: fc.stringMatching(/^[A-Za-z0-9]{1,16}$/) }),
  fc.record({ type: fc.constant('rate-ok' as const), rate }),
  fc.record({
    type: fc.constant('error' as const),
    code: fc.constantFrom('BADCRC' as const, 'BADCMD' as const, 'BADARG' as const),
    detail: fc.stringMatching(/^[a-z ]{0,40}$/),
  }),
);
const hostCommand: fc.Arbitrary<HostCommand> = fc.oneof(
  fc.constant({ type: 'identify' as const }),
  fc.record({ type: fc.constant('rate' as const), rate }),
  fc.record({ type: fc.constant('ping' as const), token: fc.stringMatching(/^[A-Za-z0-9]{1,16}$/) }),
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe('serial protocol v1 codec', () => {
  it('CRC-16/CCITT-FALSE matches the standard check value', () => {
    expect(crc16('123456789')).toBe(0x29b1);
  });

  it('a documented example line decodes', () => {
    const line = frameLine('S,42,1000,8123,-77');
    expect(line).toMatch(/^S,42,1000,8123,-77\*[0-9A-F]{4}\n$/);
    expect(decodeDeviceLine(line)).toEqual({ type: 'sample', seq: 42, deviceMs: 1000, raw: [8123, -77] });
    expect(decodeDeviceLine(line.replace('\n', '\r\n'))).toEqual(decodeDeviceLine(line));
  });

  it('every encoded device frame decodes to itself', () => {
    fc.assert(
      fc.property(deviceFrame, (f) => {
        expect(decodeDeviceLine(encodeDeviceFrame(f))).toEqual(f);
      }),
      { numRuns: 2000 },
    );
  });

  it('every encoded host command decodes to itself', () => {
    fc.assert(
      fc.property(hostCommand, (c) => {
        expect(decodeCommandLine(encodeCommand(c))).toEqual(c);
      }),
    );
  });

  it('a single corrupted byte is always rejected with a coded error', () => {
    fc.assert(
      fc.property(deviceFrame, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, at, x) => {
        const line = encodeDeviceFrame(f).slice(0, -1);
        const i = at % line.length;
        const bad = line.slice(0, i) + String.fromCharCode(line.charCodeAt(i) ^ x) + line.slice(i + 1);
        const code = codeOf(() => decodeDeviceLine(bad));
        expect([
          ErrorCodes.CHECKSUM,
          ErrorCodes.FRAMING,
          ErrorCodes.FIELD,
          ErrorCodes.UNKNOWN_TYPE,
        ]).toContain(code);
      }),
      { numRuns: 3000 },
    );
  });

  it('a truncated line is rejected', () => {
    fc.assert(
      fc.property(sample, fc.nat(), (f, at) => {
        const line = encodeDeviceFrame(f);
        const cut = line.slice(0, at % (line.length - 1));
        expect(codeOf(() => decodeDeviceLine(cut))).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('garbage is rejected with a coded error and never throws anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
        const code = codeOf(() => decodeDeviceLine(s));
        // The odds that random text carries a valid CRC-16 are ~1/65536 per well-formed line.
        if (code === undefined) expect(s).toMatch(/\*[0-9A-F]{4}\r?\n?$/);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['sample with 9 channels', frameLine('S,1,1,1,2,3,4,5,6,7,8,9'), ErrorCodes.FIELD],
    ['raw above 24 bits', frameLine('S,1,1,8388608'), ErrorCodes.FIELD],
    ['raw below 24 bits', frameLine('S,1,1,-8388609'), ErrorCodes.FIELD],
    ['seq above uint32', frameLine('S,4294967296,1,1'), ErrorCodes.FIELD],
    ['non-canonical leading zero', frameLine('S,01,1,1'), ErrorCodes.FIELD],
    ['no channels', frameLine('S,1,1'), ErrorCodes.FIELD],
    ['empty channel', frameLine('S,1,1,,2'), ErrorCodes.FIELD],
    ['unknown type', frameLine('X,1'), ErrorCodes.UNKNOWN_TYPE],
    ['bad rate in identity', frameLine('ID,SN1,1.0.0,4,20'), ErrorCodes.FIELD],
    ['zero channels in identity', frameLine('ID,SN1,1.0.0,0,80'), ErrorCodes.FIELD],
    ['lower-case checksum', 'S,1,1,1*abcd', ErrorCodes.FRAMING],
    ['missing checksum', 'S,1,1,1', ErrorCodes.FRAMING],
    ['wrong checksum', 'S,1,1,1*0000', ErrorCodes.CHECKSUM],
    ['control byte', frameLine('S,1,1,\u00071'), ErrorCodes.FRAMING],
    ['overlong line', frameLine(`S,1,1,${'1,'.repeat(100)}1`), ErrorCodes.TOO_LONG],
    ['empty line', '\n', ErrorCodes.FRAMING],
  ])('rejects %s', (_name, line, code) => {
    expect(codeOf(() => decodeDeviceLine(line))).toBe(code);
  });

  it('a v1 sample decodes without a temperature, a v1.1 sample with one', () => {
    const v1 = decodeDeviceLine(frameLine('S,12,412,8123,-77'));
    expect('tempC' in v1).toBe(false);
    expect(decodeDeviceLine(frameLine('S,12,412,8123,-77,T2350'))).toEqual({
      type: 'sample',
      seq: 12,
      deviceMs: 412,
      raw: [8123, -77],
      tempC: 23.5,
    });
    expect(decodeDeviceLine(frameLine('S,1,1,5,T-512'))).toMatchObject({ raw: [5], tempC: -5.12 });
    expect(decodeDeviceLine(frameLine('S,1,1,5,T0'))).toMatchObject({ tempC: 0 });
    expect(decodeDeviceLine(frameLine('S,1,1,5,T-5500'))).toMatchObject({ tempC: -55 });
    expect(decodeDeviceLine(frameLine('S,1,1,5,T12500'))).toMatchObject({ tempC: 125 });
    // T is not a channel: eight channels and a temperature is a whole frame.
    expect(decodeDeviceLine(frameLine('S,1,1,1,2,3,4,5,6,7,8,T100'))).toMatchObject({
      raw: [1, 2, 3, 4, 5, 6, 7, 8],
      tempC: 1,
    });
  });

  it('encodes the temperature rounded to 0.01 °C, last, and never as -0', () => {
    const f = { type: 'sample' as const, seq: 3, deviceMs: 40, raw: [1, -2] };
    expect(encodeDeviceFrame({ ...f, tempC: 23.456 })).toBe(frameLine('S,3,40,1,-2,T2346'));
    expect(encodeDeviceFrame({ ...f, tempC: -0.001 })).toBe(frameLine('S,3,40,1,-2,T0'));
    expect(encodeDeviceFrame({ ...f, tempC: 21.0625 })).toBe(frameLine('S,3,40,1,-2,T2106'));
    expect(encodeDeviceFrame({ ...f, tempC: undefined })).toBe(frameLine('S,3,40,1,-2'));
    expect(tempField(-55)).toBe(',T-5500');
    for (const bad of [125.01, -55.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => tempField(bad))).toBe(ErrorCodes.FIELD);
    }
  });

  it.each([
    ['T above 125 °C', 'S,1,1,5,T12501', 'tempC'],
    ['T below -55 °C', 'S,1,1,5,T-5501', 'tempC'],
    ['T with a leading zero', 'S,1,1,5,T0123', 'tempC'],
    ['T as -0', 'S,1,1,5,T-0', 'tempC'],
    ['T with a plus', 'S,1,1,5,T+100', 'tempC'],
    ['T with a decimal point', 'S,1,1,5,T23.5', 'tempC'],
    ['T with no digits', 'S,1,1,5,T', 'tempC'],
    ['T not last', 'S,1,1,5,T2350,6', 'tempC'],
    ['two T fields', 'S,1,1,5,T2350,T2351', 'tempC'],
    ['T then an empty field', 'S,1,1,5,T2350,', 'tempC'],
    ['T with no channels', 'S,1,1,T2350', 'raw.0'],
    ['lower-case t', 'S,1,1,5,t2350', 'raw.1'],
    ['nine channels before T', 'S,1,1,1,2,3,4,5,6,7,8,9,T100', 'channels'],
  ])('rejects a sample with %s, naming the field', (_name, body, field) => {
    let err: unknown;
    try {
      decodeDeviceLine(frameLine(body));
    } catch (e) {
      err = e;
    }
    expect(isShelfError(err)).toBe(true);
    if (!isShelfError(err)) return;
    expect(err.code).toBe(ErrorCodes.FIELD);
    expect(err.issues[0]?.path).toBe(field);
    expect(err.message).toContain(`bad ${field}`);
  });

  it('rejects bad commands', () => {
    expect(codeOf(() => decodeCommandLine(frameLine('RATE,20')))).toBe(ErrorCodes.FIELD);
    expect(codeOf(() => decodeCommandLine(frameLine('REBOOT')))).toBe(ErrorCodes.UNKNOWN_TYPE);
    expect(codeOf(() => decodeCommandLine('ID*0000\n'))).toBe(ErrorCodes.CHECKSUM);
  });
});
