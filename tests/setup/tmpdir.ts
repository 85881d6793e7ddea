/**
 * Vitest global setup: every temp file and directory a test run makes (agent state, Mosquitto
 * configs, ptys, databases) goes under one fresh directory, removed when the run ends, so runs leave
 * nothing behind in the system's temp directory. Workers and the processes tests start inherit
 * TMPDIR, which `os.tmpdir()` reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'shelfsense-test-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
