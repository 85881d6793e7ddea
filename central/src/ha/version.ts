/**
 * Shelfsense's version, for the device and origin blocks Home Assistant shows. Read from the
 * central package's manifest, which sits two levels up from both `src/ha` and `dist/ha`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const Manifest = z.object({ version: z.string().min(1) });

function read(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return Manifest.parse(JSON.parse(text)).version;
  } catch {
    return 'unknown';
  }
}

export const SHELFSENSE_VERSION = read();
