import type { TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';

/**
 * ReadlineParser that never buffers without bound: line noise with no newline for a long time is
 * cut at `maxLength` and handed on, where the frame check rejects it.
 */
export class BoundedReadlineParser extends ReadlineParser {
  constructor(private readonly maxLength = 512) {
    super({ delimiter: '\n', encoding: 'latin1' });
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    super._transform(chunk, encoding, (err) => {
      if (!err && this.buffer.length > this.maxLength) {
        this.push(this.buffer);
        this.buffer = Buffer.alloc(0);
      }
      cb(err);
    });
  }
}
