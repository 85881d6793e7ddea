/**
 * Host command lines and the one reply protocol v1 requires of a shelf for each (the body, before
 * `*XXXX`; null for no reply). The simulator and the flashed firmware are both held to this table.
 */
import { frameLine } from '@shelfsense/protocol';

export interface CommandCase {
  what: string;
  /** The bytes the host sends, line ending included. */
  line: string;
  /** `{serial}`, `{firmware}`, `{channels}` and `{rate}` stand for the shelf's identity. */
  reply: string | null;
}

export const COMMAND_CASES: readonly CommandCase[] = [
  { what: 'identify', line: frameLine('ID'), reply: 'ID,{serial},{firmware},{channels},{rate}' },
  { what: 'ping', line: frameLine('PING,abc123'), reply: 'PONG,abc123' },
  { what: 'ping with CR LF', line: frameLine('PING,crlf').replace('\n', '\r\n'), reply: 'PONG,crlf' },
  { what: 'blank line', line: '\n', reply: null },
  { what: 'blank CR LF line', line: '\r\n', reply: null },
  { what: 'over-long line', line: `${'A'.repeat(200)}\n`, reply: 'ERR,BADCRC,line too long' },
  {
    what: 'a line of exactly 161',
    line: frameLine(`PING,${'x'.repeat(151)}`),
    reply: 'ERR,BADCRC,line too long',
  },
  { what: 'non-printable byte', line: 'PI\x01NG*0000\n', reply: 'ERR,BADCRC,non-printable byte' },
  { what: 'no checksum', line: 'ID\n', reply: 'ERR,BADCRC,bad framing' },
  {
    what: 'lower-case checksum',
    line: frameLine('PING,abc').replace(/\*([0-9A-F]{4})/, (_, h: string) => `*${h.toLowerCase()}`),
    reply: 'ERR,BADCRC,bad framing',
  },
  { what: 'wrong checksum', line: 'ID*0000\n', reply: 'ERR,BADCRC,checksum mismatch' },
  { what: 'unknown command', line: frameLine('FOO,1'), reply: 'ERR,BADCMD,unknown command' },
  { what: 'lower-case command', line: frameLine('id'), reply: 'ERR,BADCMD,unknown command' },
  { what: 'identify with an argument', line: frameLine('ID,1'), reply: 'ERR,BADARG,bad arguments' },
  { what: 'rate 20', line: frameLine('RATE,20'), reply: 'ERR,BADARG,bad rate' },
  { what: 'rate without a value', line: frameLine('RATE'), reply: 'ERR,BADARG,bad arguments' },
  { what: 'rate 080', line: frameLine('RATE,080'), reply: 'ERR,BADARG,bad rate' },
  { what: 'ping with a space', line: frameLine('PING,no way'), reply: 'ERR,BADARG,bad token' },
  {
    what: 'ping with 17 characters',
    line: frameLine(`PING,${'a'.repeat(17)}`),
    reply: 'ERR,BADARG,bad token',
  },
  { what: 'serial with a bad character', line: frameLine('SERIAL,a.b'), reply: 'ERR,BADARG,bad serial' },
  {
    what: 'serial of a provisioned shelf',
    line: frameLine('SERIAL,NEW-1'),
    reply: 'ERR,BADARG,serial is locked',
  },
  { what: 'rate 10', line: frameLine('RATE,10'), reply: 'OK,RATE,10' },
  { what: 'rate 80', line: frameLine('RATE,80'), reply: 'OK,RATE,80' },
];
