/**
 * Splits bytes into lines without keeping the bytes: each complete line is decoded (latin1) and
 * handed on at once, only an unfinished line is kept, as a string, and cut at `maxLength` (line
 * noise without a newline is handed on in pieces, which the frame check rejects). Fed from one
 * reused read buffer (a TCP source's `onread`, a serial source's reads), it allocates no Buffer per
 * read, so a fast shelf leaves no trail of 64 KB chunks for a major GC.
 */
export class LineSplitter {
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLength = 512,
  ) {}

  /** Takes bytes [start, end) of `buf`; emits every line they complete, without the '\n'. */
  push(buf: Buffer, start = 0, end = buf.length): void {
    let from = start;
    while (from < end) {
      const nl = buf.indexOf(10, from);
      if (nl < 0 || nl >= end) {
        this.partial += buf.toString('latin1', from, end);
        if (this.partial.length > this.maxLength) this.flush();
        return;
      }
      const piece = buf.toString('latin1', from, nl);
      from = nl + 1;
      if (this.partial) {
        const line = this.partial + piece;
        this.partial = '';
        this.onLine(line);
      } else this.onLine(piece);
    }
  }

  /** Hands on what is left of an unfinished line (if any), e.g. when the connection ends. */
  flush(): void {
    if (!this.partial) return;
    const line = this.partial;
    this.partial = '';
    this.onLine(line);
  }

  /** Forgets an unfinished line (a new connection starts clean). */
  reset(): void {
    this.partial = '';
  }
}
