/**
 * Input generators shared by the fuzz tests: serial lines (random bytes, near-valid frames, valid
 * checksums over nonsense fields) and JSON documents (arbitrary values, and valid documents with
 * one field broken: removed, retyped, huge, NaN-ish, an extra key).
 */
import {
  encodeDeviceFrame,
  frameLine,
  RAW_MAX,
  RAW_MIN,
  TEMP_CENTI_MAX,
  TEMP_CENTI_MIN,
} from '@shelfsense/protocol';
import fc from 'fast-check';

// --- serial lines -------------------------------------------------------------------------------

const rate = fc.constantFrom(10, 80);

/** A valid line a shelf could send (sample, identity, pong, rate-ok, error). */
export const validDeviceLine: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        {
          type: fc.constant('sample' as const),
          seq: fc.integer({ min: 0, max: 4_294_967_295 }),
          deviceMs: fc.integer({ min: 0, max: 4_294_967_295 }),
          raw: fc.array(fc.integer({ min: RAW_MIN, max: RAW_MAX }), { minLength: 1, maxLength: 8 }),
          // Protocol v1.1: some frames carry the shelf's temperature.
          tempC: fc.integer({ min: TEMP_CENTI_MIN, max: TEMP_CENTI_MAX }).map((c) => c / 100),
        },
        { requiredKeys: ['type', 'seq', 'deviceMs', 'raw'] },
      ),
    },
    fc.record({
      type: fc.constant('identity' as const),
      serial: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
      firmware: fc.stringMatching(/^[A-Za-z0-9.+_-]{1,24}$/),
      channels: fc.integer({ min: 1, max: 8 }),
      rate: rate as fc.Arbitrary<10 | 80>,
    }),
    fc.record({ type: fc.constant('pong' as const), token: fc.stringMatching(/^[A-Za-z0-9]{1,16}$/) }),
    fc.record({ type: fc.constant('rate-ok' as const), rate: rate as fc.Arbitrary<10 | 80> }),
    fc.record({
      type: fc.constant('error' as const),
      code: fc.constantFrom('BADCRC' as const, 'BADCMD' as const, 'BADARG' as const),
      detail: fc.stringMatching(/^[a-z ]{0,40}$/),
    }),
  )
  .map((f) => encodeDeviceFrame(f));

/** Field values that a parser has to refuse or handle at its edges. */
const nastyField = fc.oneof(
  fc.constantFrom(
    '',
    'NaN',
    '-NaN',
    'Infinity',
    '-0',
    '0',
    '00',
    '007',
    '+1',
    '1e3',
    '0x10',
    '1.5',
    ' 1',
    '1 ',
    '-',
    '4294967295',
    '4294967296',
    '99999999999',
    '8388607',
    '8388608',
    '-8388608',
    '-8388609',
    '-1',
    '9007199254740993',
    'S',
    'ID',
    'PONG',
    'OK',
    'RATE',
    'ERR',
    'BADCRC',
    '10',
    '80',
    '81',
    'T',
    'T0',
    'T-0',
    'T2350',
    'T-5500',
    'T-5501',
    'T12501',
    'T007',
    'T+1',
    't1',
  ),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.stringMatching(/^[ -)+-~]{0,12}$/),
);

/** A body with a type keyword and nonsense fields, wrapped with a correct checksum. */
export const validCrcNonsense: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('S', 'ID', 'PONG', 'OK', 'ERR', 'RATE', 'PING', 'X', 's', ''),
    fc.array(nastyField, { maxLength: 12 }),
  )
  .map(([type, fields]) => frameLine([type, ...fields].join(',')));

/** A valid line with one character replaced, removed, inserted or duplicated. */
export const mutatedDeviceLine: fc.Arbitrary<string> = fc
  .tuple(validDeviceLine, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 3))
  .map(([line, at, code, op]) => {
    const i = at % line.length;
    const c = String.fromCharCode(code);
    if (op === 0) return line.slice(0, i) + c + line.slice(i + 1);
    if (op === 1) return line.slice(0, i) + line.slice(i + 1);
    if (op === 2) return line.slice(0, i) + c + line.slice(i);
    return line.slice(0, i) + line.slice(i, i + 8) + line.slice(i);
  });

/** Bytes as the agent's line parser hands them on (latin1: one character per byte). */
export const byteLine: fc.Arbitrary<string> = fc
  .uint8Array({ maxLength: 200 })
  .map((b) => Buffer.from(b).toString('latin1'));

/** Very long lines: noise, or valid frames run together without a newline. */
export const longLine: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 150, max: 5_000 }), fc.constantFrom('0', 'S,', ',', '*', '\xff'))
    .map(([n, c]) => c.repeat(n)),
  fc.array(validDeviceLine, { minLength: 2, maxLength: 40 }).map((ls) => ls.map((l) => l.trimEnd()).join('')),
  validDeviceLine.map((l) => `S,1,2,${'1,'.repeat(200)}1${l}`),
);

/** Any line: the mix every serial fuzz test draws from. */
export const anyDeviceLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: validDeviceLine },
  { weight: 4, arbitrary: mutatedDeviceLine },
  { weight: 3, arbitrary: validCrcNonsense },
  { weight: 2, arbitrary: byteLine },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: longLine },
);

// --- JSON documents ------------------------------------------------------------------------------

/** Values that break schemas at their edges. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -0,
    -1,
    0.5,
    1e308,
    -1e308,
    5e-324,
    2 ** 53,
    2 ** 53 + 2,
    4_294_967_296,
    Number.MAX_SAFE_INTEGER,
    '',
    'NaN',
    'Infinity',
    '1e999',
    ' ',
    '../..',
    '+',
    '#',
    'a/b',
    'x'.repeat(70),
    'x'.repeat(5_000),
    '\u0000',
    '\u202e',
    '😀',
    [],
    {},
    [null],
    { __proto__: null },
  ),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 80 }),
  fc.jsonValue({ maxDepth: 3 }),
);

type Json = unknown;

/** Every path (as key lists) into a JSON value, the root included. */
function paths(
  v: Json,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      paths(x, [...at, i], out);
    });
  } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export type Mutation = 'set' | 'delete' | 'extra' | 'wrap';

/** `valid` with one place broken: a value replaced, a key removed, an unknown key added, or wrapped. */
export function mutated(valid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc
    .tuple(
      valid,
      fc.nat(),
      fc.constantFrom<Mutation>('set', 'set', 'set', 'delete', 'extra', 'wrap'),
      nastyValue,
      fc.string({ maxLength: 12 }),
    )
    .map(([doc, pick, op, value, key]) => {
      const d = clone(doc);
      const all = paths(d);
      const path = all[pick % all.length] as (string | number)[];
      if (path.length === 0) return op === 'wrap' || op === 'delete' ? [d] : value;
      const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string, Json>)[k as string], d);
      const last = path[path.length - 1] as string | number;
      const p = parent as Record<string | number, Json>;
      if (op === 'set') p[last] = value;
      else if (op === 'delete') {
        if (Array.isArray(p)) p.splice(last as number, 1);
        else delete p[last];
      } else if (op === 'extra') {
        if (p[last] && typeof p[last] === 'object' && !Array.isArray(p[last]))
          (p[last] as Record<string, Json>)[key || 'x'] = value;
        else p[last] = value;
      } else p[last] = [p[last]];
      return d;
    });
}

/** Payload text: a JSON value, a broken valid document, or text that is not JSON at all. */
export function payloadText(valid: fc.Arbitrary<Json>): fc.Arbitrary<Buffer> {
  return fc
    .oneof(
      { weight: 2, arbitrary: valid.map((v) => JSON.stringify(v)) },
      { weight: 6, arbitrary: mutated(valid).map((v) => JSON.stringify(v) ?? 'undefined') },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
      {
        weight: 1,
        arbitrary: valid
          .map((v) => JSON.stringify(v))
          .chain((t) => fc.nat({ max: Math.max(0, t.length - 1) }).map((n) => t.slice(0, n))),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '',
          'NaN',
          'null',
          '1e999',
          '{"seq":1e999}',
          '{"__proto__":{"agent":"x"}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
          '['.repeat(10_000),
          `${'['.repeat(3_000)}${']'.repeat(3_000)}`,
          '"\\ud800"',
          '\ufeff{}',
        ),
      },
      {
        weight: 2,
        arbitrary: fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 })),
      },
    )
    .map((t) => Buffer.from(t, 'utf8'))
    .chain((b) =>
      fc.oneof(
        { weight: 9, arbitrary: fc.constant(b) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((x) => Buffer.from(x)) },
      ),
    );
}
