/**
 * The on-disk record format of the outbox. Every record checks itself, so a torn tail after a power
 * cut or a flipped byte is detected and never mis-read:
 *
 * ```
 * offset size  field
 *  0     4     magic  AB 0B 5E C5  (lets a scan find the next record after a damaged one)
 *  4     4     crc32  (u32 LE) of bytes 8 .. end of record
 *  8     4     length (u32 LE) of the whole record, header included
 * 12     6     seq    (u48 LE) agent sequence number
 * 18     6     ts     (u48 LE) epoch milliseconds, as given at append
 * 24     1     qos    0 | 1 | 2
 * 25     1     flags  bit 0 = retain
 * 26     2     topic length (u16 LE), bytes
 * 28     …     topic (UTF-8) then the payload as JSON (UTF-8)
 * ```
 */

export const MAGIC = Buffer.from([0xab, 0x0b, 0x5e, 0xc5]);
export const HEADER_BYTES = 28;
/** Largest value a u48 field holds. */
export const U48_MAX = 2 ** 48 - 1;
/**
 * Largest record length a reader accepts as plausible: the highest `maxRecordBytes` allowed, so
 * lowering that setting later never turns records already stored into "damage".
 */
export const READ_LIMIT = 64 * 1024 * 1024;

export type Qos = 0 | 1 | 2;

/** What a record holds besides its sequence number. */
export interface RecordBody {
  topic: string;
  payload: Record<string, unknown>;
  qos: Qos;
  retain: boolean;
  /** Epoch milliseconds, preserved exactly as given. */
  ts: number;
}

/** A record as read back from the outbox. */
export interface OutboxRecord extends RecordBody {
  seq: number;
  /** Size on disk, header included. */
  bytes: number;
}

/** The fixed-size part of a record, enough to walk a segment without decoding bodies. */
export interface RecordHeader {
  seq: number;
  ts: number;
  /** Whole record length, header included. */
  length: number;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC-32 (IEEE) by table. Not zlib.crc32: node:zlib costs an agent ~1.5 MB of resident memory to
 * load, and records are a few hundred bytes (about 1 µs each here).
 */
export function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = (CRC_TABLE[(c ^ data[i]!) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Encodes one record; `payloadJson` is the payload already serialised. */
export function encodeRecord(seq: number, body: Omit<RecordBody, 'payload'>, payloadJson: string): Buffer {
  const topicBytes = Buffer.byteLength(body.topic, 'utf8');
  const length = HEADER_BYTES + topicBytes + Buffer.byteLength(payloadJson, 'utf8');
  const buf = Buffer.allocUnsafe(length);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(length, 8);
  buf.writeUIntLE(seq, 12, 6);
  buf.writeUIntLE(body.ts, 18, 6);
  buf.writeUInt8(body.qos, 24);
  buf.writeUInt8(body.retain ? 1 : 0, 25);
  buf.writeUInt16LE(topicBytes, 26);
  buf.write(body.topic, HEADER_BYTES, 'utf8');
  buf.write(payloadJson, HEADER_BYTES + topicBytes, 'utf8');
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/**
 * Reads the header at `off` when `buf` holds at least HEADER_BYTES there and the magic matches and
 * the length is plausible; undefined otherwise. Does not check the CRC (see `checkRecord`).
 */
export function readHeader(buf: Buffer, off: number, maxLength: number): RecordHeader | undefined {
  if (off + HEADER_BYTES > buf.length) return undefined;
  if (buf[off] !== 0xab || buf[off + 1] !== 0x0b || buf[off + 2] !== 0x5e || buf[off + 3] !== 0xc5) {
    return undefined;
  }
  const length = buf.readUInt32LE(off + 8);
  const topicLen = buf.readUInt16LE(off + 26);
  if (length < HEADER_BYTES + topicLen + 2 || length > maxLength) return undefined;
  return { seq: buf.readUIntLE(off + 12, 6), ts: buf.readUIntLE(off + 18, 6), length };
}

/** True when the whole record at `off` (of `length` bytes, all inside `buf`) matches its CRC. */
export function checkRecord(buf: Buffer, off: number, length: number): boolean {
  return buf.readUInt32LE(off + 4) === crc32(buf.subarray(off + 8, off + length));
}

/** Decodes the body of a record already checked; throws if the payload is not a JSON object. */
export function decodeRecord(buf: Buffer, off: number, header: RecordHeader): OutboxRecord {
  const topicLen = buf.readUInt16LE(off + 26);
  const topicStart = off + HEADER_BYTES;
  const topic = buf.toString('utf8', topicStart, topicStart + topicLen);
  const payload = JSON.parse(buf.toString('utf8', topicStart + topicLen, off + header.length)) as unknown;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new Error('payload is not a JSON object');
  }
  return {
    seq: header.seq,
    ts: header.ts,
    topic,
    payload: payload as Record<string, unknown>,
    qos: (buf[off + 24]! & 3) as Qos,
    retain: (buf[off + 25]! & 1) === 1,
    bytes: header.length,
  };
}
