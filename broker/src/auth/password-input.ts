/**
 * Reads a password for the users CLI: from stdin when it is piped (first line), or from an
 * interactive prompt with echo off. Never from the command line, where `ps` and shell history
 * would show it.
 */
import type { Readable } from 'node:stream';
import { ErrorCodes, ShelfError } from '@shelfsense/protocol';

export class PasswordInputError extends ShelfError<typeof ErrorCodes.USAGE> {
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
    this.name = 'PasswordInputError';
  }
}

/** The first line of a piped stream (up to 64 KiB), without its line ending. */
export async function readPipedPassword(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(b);
    size += b.length;
    if (b.includes(0x0a) || size > 65_536) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  return (nl >= 0 ? text.slice(0, nl) : text).replace(/\r$/, '');
}

/** Prompts on the terminal with echo off. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  return new Promise((resolve, reject) => {
    let value = '';
    out.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      out.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(null);
        if (ch === '\u0003') return finish(new PasswordInputError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A new password: piped stdin gives it once; a terminal asks twice and checks they match.
 */
export async function readNewPassword(label: string): Promise<string> {
  if (!process.stdin.isTTY) return readPipedPassword(process.stdin);
  const first = await promptHidden(`${label}: `);
  const second = await promptHidden(`${label} (again): `);
  if (first !== second) throw new PasswordInputError('the two passwords differ');
  return first;
}
