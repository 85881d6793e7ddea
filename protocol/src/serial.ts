/**
 * Shelf serial protocol v1.1 (see docs/serial-protocol.md): line-based ASCII, 115200 8N1.
 * Every line is `BODY*XXXX\n` where XXXX is the CRC-16/CCITT-FALSE of BODY in upper-case hex.
 * v1.1 adds an optional last field `T<centi-°C>` to the sample frame; every v1 line is still valid.
 *
 * The sample decoder is on the agent's hot path (up to 8 channels × 80 SPS × many shelves), so it
 * is written by hand rather than through a schema; it checks every field as strictly as a schema
 * would and reports failures with the same typed errors.
 */
import { ErrorCodes, ShelfError } from './errors.js';

export const SERIAL_BAUD = 115_200;
export const PROTOCOL_VERSION = 1;
/** Minor version: 1.1 added the sample frame's optional temperature field. */
export const PROTOCOL_MINOR_VERSION = 1;
/** HX711 output is a signed 24-bit two's-complement value. */
export const RAW_MIN = -8_388_608;
export const RAW_MAX = 8_388_607;
export const MAX_CHANNELS = 8;
export const SAMPLE_RATES = [10, 80] as const;
export type SampleRate = (typeof SAMPLE_RATES)[number];
/** No valid line is longer than this (8 channels of `-8388608` plus header and CRC is ~110). */
export const MAX_LINE_LENGTH = 160;
export const UINT32_MAX = 4_294_967_295;
/** The temperature field's range, centi-°C: a DS18B20's −55 … +125 °C. */
export const TEMP_CENTI_MIN = -5500;
export const TEMP_CENTI_MAX = 12_500;
/** A host forgets a shelf's last temperature this long after it arrived (device clock). */
export const TEMP_HOLD_MS = 10_000;

/** One tick of the shelf: every channel's raw counts at one instant of the device clock. */
export interface SampleFrame {
  type: 'sample';
  /** Frame sequence number, uint32, +1 per frame, wraps to 0. */
  seq: number;
  /** Device clock: milliseconds since boot, uint32, wraps after ~49.7 days. */
  deviceMs: number;
  /** Raw signed 24-bit counts, one per channel. */
  raw: number[];
  /** Protocol v1.1: the shelf's temperature, °C, on frames that carry one; absent otherwise. */
  tempC?: number;
}

export interface IdentityFrame {
  type: 'identity';
  serial: string;
  firmware: string;
  channels: number;
  rate: SampleRate;
}

export interface PongFrame {
  type: 'pong';
  token: string;
}

export interface RateOkFrame {
  type: 'rate-ok';
  rate: SampleRate;
}

/** The shelf stored the serial number a technician gave it (and will not take another). */
export interface SerialOkFrame {
  type: 'serial-ok';
  serial: string;
}

export const DEVICE_ERROR_CODES = ['BADCRC', 'BADCMD', 'BADARG'] as const;
export type DeviceErrorCode = (typeof DEVICE_ERROR_CODES)[number];

export interface DeviceErrorFrame {
  type: 'error';
  code: DeviceErrorCode;
  detail: string;
}

export type DeviceFrame =
  | SampleFrame
  | IdentityFrame
  | PongFrame
  | RateOkFrame
  | SerialOkFrame
  | DeviceErrorFrame;

export type HostCommand =
  | { type: 'identify' }
  | { type: 'rate'; rate: SampleRate }
  | { type: 'ping'; token: string }
  | { type: 'serial'; serial: string };

// --- CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) -----------------

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/CCITT-FALSE over the character codes of `s` from `start` to `end` (exclusive). */
export function crc16(s: string, start = 0, end = s.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff] as number);
  }
  return crc;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** Wraps a body into a full line with its checksum and newline. */
export function frameLine(body: string): string {
  return `${body}*${hex4(crc16(body))}\n`;
}

// --- field checks --------------------------------------------------------------------------------

const SERIAL_RE = /^[A-Za-z0-9_-]{1,32}$/;
const FIRMWARE_RE = /^[A-Za-z0-9.+_-]{1,24}$/;
const TOKEN_RE = /^[A-Za-z0-9]{1,16}$/;
const DETAIL_RE = /^[^,*\r\n]{0,64}$/;

function fieldError(what: string, line: string, why?: string): ShelfError {
  const tail = why ? `: ${why}` : '';
  return new ShelfError(ErrorCodes.FIELD, `bad ${what} in line "${printable(line)}"${tail}`, [
    { path: what, message: why ?? 'missing or out of range' },
  ]);
}

/** For log messages: at most 80 characters, control bytes escaped. */
export function printable(line: string): string {
  const cut = line.length > 80 ? `${line.slice(0, 80)}…` : line;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control bytes is the point
  return cut.replace(/[\x00-\x1f\x7f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Parses a non-negative decimal integer in [0, max] from s[start, end); -1 if it is not one. */
function parseUint(s: string, start: number, end: number, max: number): number {
  if (end <= start || end - start > 10) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  // Leading zeros are not canonical: "007" would not re-encode to itself.
  if (end - start > 1 && s.charCodeAt(start) === 48) return -1;
  return n <= max ? n : -1;
}

/** Parses a signed 24-bit decimal in s[start, end); NaN if it is not one. */
function parseRaw(s: string, start: number, end: number): number {
  const neg = s.charCodeAt(start) === 45; // '-'
  const v = parseUint(s, neg ? start + 1 : start, end, 8_388_608);
  if (v < 0) return Number.NaN;
  if (neg) return v === 0 ? Number.NaN : -v; // "-0" is not canonical
  return v <= RAW_MAX ? v : Number.NaN;
}

/**
 * Checks framing and checksum; returns the body (without `*XXXX` and line ending).
 * Throws SHELF_ERR_TOO_LONG, SHELF_ERR_FRAMING or SHELF_ERR_CHECKSUM.
 */
export function checkLine(input: string): string {
  let end = input.length;
  if (end > 0 && input.charCodeAt(end - 1) === 10) end--;
  if (end > 0 && input.charCodeAt(end - 1) === 13) end--;
  if (end > MAX_LINE_LENGTH) {
    throw new ShelfError(ErrorCodes.TOO_LONG, `line of ${end} characters exceeds ${MAX_LINE_LENGTH}`);
  }
  const star = end - 5;
  if (star < 1 || input.charCodeAt(star) !== 42) {
    throw new ShelfError(ErrorCodes.FRAMING, `line "${printable(input)}" does not end in *XXXX`);
  }
  for (let i = 0; i < star; i++) {
    const c = input.charCodeAt(i);
    if (c < 32 || c > 126 || c === 42) {
      throw new ShelfError(
        ErrorCodes.FRAMING,
        `line "${printable(input)}" holds a byte outside printable ASCII`,
      );
    }
  }
  let want = 0;
  for (let i = star + 1; i < end; i++) {
    const c = input.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0)
      throw new ShelfError(ErrorCodes.FRAMING, `line "${printable(input)}" has a malformed checksum`);
    want = (want << 4) | d;
  }
  const got = crc16(input, 0, star);
  if (got !== want) {
    throw new ShelfError(
      ErrorCodes.CHECKSUM,
      `checksum mismatch in "${printable(input)}": computed ${hex4(got)}, line says ${hex4(want)}`,
    );
  }
  return input.slice(0, star);
}

function isRate(n: number): n is SampleRate {
  return n === 10 || n === 80;
}

/** Decodes one line sent by a shelf. Throws a ShelfError with a code on any defect. */
export function decodeDeviceLine(line: string): DeviceFrame {
  const body = checkLine(line);
  if (body.charCodeAt(0) === 83 && body.charCodeAt(1) === 44) return decodeSample(body);
  const f = body.split(',');
  switch (f[0]) {
    case 'ID': {
      const [, serial, firmware, ch, rate] = f;
      if (f.length !== 5) throw fieldError('identity', body);
      if (!serial || !SERIAL_RE.test(serial)) throw fieldError('serial', body);
      if (!firmware || !FIRMWARE_RE.test(firmware)) throw fieldError('firmware', body);
      const channels = parseUint(ch ?? '', 0, (ch ?? '').length, MAX_CHANNELS);
      if (channels < 1) throw fieldError('channels', body);
      const r = parseUint(rate ?? '', 0, (rate ?? '').length, 1000);
      if (!isRate(r)) throw fieldError('rate', body);
      return { type: 'identity', serial, firmware, channels, rate: r };
    }
    case 'PONG': {
      if (f.length !== 2 || !TOKEN_RE.test(f[1] ?? '')) throw fieldError('token', body);
      return { type: 'pong', token: f[1] as string };
    }
    case 'OK': {
      if (f[1] === 'SERIAL') {
        if (f.length !== 3 || !SERIAL_RE.test(f[2] ?? '')) throw fieldError('serial', body);
        return { type: 'serial-ok', serial: f[2] as string };
      }
      const r = parseUint(f[2] ?? '', 0, (f[2] ?? '').length, 1000);
      if (f.length !== 3 || f[1] !== 'RATE' || !isRate(r)) throw fieldError('rate', body);
      return { type: 'rate-ok', rate: r };
    }
    case 'ERR': {
      const code = f[1] as DeviceErrorCode;
      if (f.length !== 3 || !DEVICE_ERROR_CODES.includes(code)) throw fieldError('error code', body);
      if (!DETAIL_RE.test(f[2] ?? '')) throw fieldError('error detail', body);
      return { type: 'error', code, detail: f[2] as string };
    }
    default:
      throw new ShelfError(ErrorCodes.UNKNOWN_TYPE, `unknown message type "${printable(f[0] ?? '')}"`);
  }
}

const TEMP_RANGE = `T and centi-°C from ${TEMP_CENTI_MIN} to ${TEMP_CENTI_MAX}, canonical decimal`;

function decodeSample(body: string): SampleFrame {
  // S,<seq>,<ms>,<c0>[,<c1>…][,T<centi-°C>]
  let pos = 2;
  let comma = body.indexOf(',', pos);
  const seq = comma < 0 ? -1 : parseUint(body, pos, comma, UINT32_MAX);
  if (seq < 0) throw fieldError('seq', body);
  pos = comma + 1;
  comma = body.indexOf(',', pos);
  const deviceMs = comma < 0 ? -1 : parseUint(body, pos, comma, UINT32_MAX);
  if (deviceMs < 0) throw fieldError('deviceMs', body);
  pos = comma + 1;
  const raw: number[] = [];
  while (pos <= body.length) {
    comma = body.indexOf(',', pos);
    const end = comma < 0 ? body.length : comma;
    if (body.charCodeAt(pos) === 84) {
      // 'T': the v1.1 temperature, after at least one channel and nothing after it.
      if (raw.length === 0) throw fieldError('raw.0', body, 'at least one channel before the temperature');
      if (comma >= 0) throw fieldError('tempC', body, 'the temperature must be the last field, and only one');
      const centi = parseRaw(body, pos + 1, end);
      if (Number.isNaN(centi) || centi < TEMP_CENTI_MIN || centi > TEMP_CENTI_MAX) {
        throw fieldError('tempC', body, TEMP_RANGE);
      }
      return { type: 'sample', seq, deviceMs, raw, tempC: centi / 100 };
    }
    const v = parseRaw(body, pos, end);
    if (Number.isNaN(v)) throw fieldError(`raw.${raw.length}`, body);
    raw.push(v);
    if (raw.length > MAX_CHANNELS) throw fieldError('channels', body);
    pos = end + 1;
  }
  return { type: 'sample', seq, deviceMs, raw };
}

/** Encodes one line as a shelf sends it (with checksum and `\n`). */
export function encodeDeviceFrame(frame: DeviceFrame): string {
  switch (frame.type) {
    case 'sample':
      return frameLine(`S,${frame.seq},${frame.deviceMs},${frame.raw.join(',')}${tempField(frame.tempC)}`);
    case 'identity':
      return frameLine(`ID,${frame.serial},${frame.firmware},${frame.channels},${frame.rate}`);
    case 'pong':
      return frameLine(`PONG,${frame.token}`);
    case 'rate-ok':
      return frameLine(`OK,RATE,${frame.rate}`);
    case 'serial-ok':
      return frameLine(`OK,SERIAL,${frame.serial}`);
    case 'error':
      return frameLine(`ERR,${frame.code},${frame.detail}`);
  }
}

/**
 * The v1.1 temperature field for a sample body: `,T<centi-°C>` (rounded to 0.01 °C), or '' when
 * there is none. Throws SHELF_ERR_FIELD for a value the field cannot carry.
 */
export function tempField(tempC: number | undefined): string {
  if (tempC === undefined) return '';
  const centi = Math.round(tempC * 100);
  if (!(centi >= TEMP_CENTI_MIN && centi <= TEMP_CENTI_MAX)) {
    throw new ShelfError(ErrorCodes.FIELD, `temperature ${tempC} °C is outside −55 … 125 °C`, [
      { path: 'tempC', message: 'between -55 and 125 °C' },
    ]);
  }
  // `${-0}` is "0": a reading that rounds to zero has one spelling.
  return `,T${centi}`;
}

/** Encodes a command from the host (agent) to the shelf. */
export function encodeCommand(cmd: HostCommand): string {
  switch (cmd.type) {
    case 'identify':
      return frameLine('ID');
    case 'rate':
      return frameLine(`RATE,${cmd.rate}`);
    case 'ping':
      return frameLine(`PING,${cmd.token}`);
    case 'serial':
      return frameLine(`SERIAL,${cmd.serial}`);
  }
}

/** Decodes a command line as a shelf receives it. */
export function decodeCommandLine(line: string): HostCommand {
  const body = checkLine(line);
  const f = body.split(',');
  switch (f[0]) {
    case 'ID':
      if (f.length !== 1) throw fieldError('arguments', body);
      return { type: 'identify' };
    case 'RATE': {
      if (f.length !== 2) throw fieldError('arguments', body);
      const r = parseUint(f[1] ?? '', 0, (f[1] ?? '').length, 1000);
      if (!isRate(r)) throw fieldError('rate', body);
      return { type: 'rate', rate: r };
    }
    case 'PING':
      if (f.length !== 2) throw fieldError('arguments', body);
      if (!TOKEN_RE.test(f[1] ?? '')) throw fieldError('token', body);
      return { type: 'ping', token: f[1] as string };
    case 'SERIAL':
      if (f.length !== 2) throw fieldError('arguments', body);
      if (!SERIAL_RE.test(f[1] ?? '')) throw fieldError('serial', body);
      return { type: 'serial', serial: f[1] as string };
    default:
      throw new ShelfError(ErrorCodes.UNKNOWN_TYPE, `unknown command "${printable(f[0] ?? '')}"`);
  }
}

/** Identifier rules, exported for schemas and the simulator. */
export const SERIAL_NUMBER_PATTERN = SERIAL_RE;
export const FIRMWARE_PATTERN = FIRMWARE_RE;
export const PING_TOKEN_PATTERN = TOKEN_RE;
