import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox, type OutboxOptions } from '@shelfsense/agent';
import { pino } from 'pino';
import { afterEach } from 'vitest';

export const quiet = pino({ level: 'silent' });

const dirs: string[] = [];
const open: Outbox[] = [];

/** A fresh temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-outbox-'));
  dirs.push(dir);
  return dir;
}

/** Opens an outbox with a silent logger and the same boot id every time; closed after the test. */
export async function openOutbox(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
  const outbox = await Outbox.open(dir, { logger: quiet, bootId: 'boot-1', ...options });
  open.push(outbox);
  return outbox;
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
}

export function levelPayload(i: number): Record<string, unknown> {
  return { agent: 'a1', serial: 'S1', units: i % 50, grams: i * 1.5, note: 'x'.repeat(i % 7) };
}

export const TOPIC = 'shelfsense/v1/site1/shelf1/lane1/level';

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
