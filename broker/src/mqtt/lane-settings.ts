/**
 * Publishes each agent's lane settings, retained, on `topics.laneSettings(site, agent)`. Agents
 * ignore a revision lower than the one they cached, so revisions only grow: an unchanged content
 * keeps its revision across restarts (remembered in the data dir), a changed one gets
 * max(previous + 1, seconds since the epoch) — still growing if the data dir is lost.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShelfMap } from '@shelfsense/protocol';
import { ensurePrivateDir, type LaneSettingsPayload, PRIVATE_FILE_MODE, topics } from '@shelfsense/protocol';
import type { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { z } from 'zod';

export const REVISIONS_FILE = 'lane-settings-revisions.json';

const Revisions = z.record(
  z.string(),
  z.object({ hash: z.string(), revision: z.number().int().nonnegative() }),
);
type Revisions = z.infer<typeof Revisions>;

function readRevisions(file: string, log: Logger): Revisions {
  try {
    return Revisions.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      log.warn({ file, err: (err as Error).message }, 'lane settings revisions unreadable; starting afresh');
    }
    return {};
  }
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: PRIVATE_FILE_MODE });
  renameSync(tmp, file);
}

/** Assigns revisions to every agent's settings, remembering them in `dataDir`. */
export function laneSettingsWithRevisions(
  map: ShelfMap,
  dataDir: string,
  log: Logger,
  now: () => number = Date.now,
): { site: string; settings: LaneSettingsPayload }[] {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, REVISIONS_FILE);
  const known = readRevisions(file, log);
  const next: Revisions = { ...known };
  const out = map.agents().map(({ site, agent }) => {
    const body = map.laneSettingsFor(site, agent, 0);
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const key = `${site}/${agent}`;
    const prev = known[key];
    const revision =
      prev && prev.hash === hash
        ? prev.revision
        : Math.max((prev?.revision ?? 0) + 1, Math.floor(now() / 1000));
    next[key] = { hash, revision };
    return { site, settings: { ...body, revision } };
  });
  // An agent whose last shelf left the catalogue is told so with no shelves (else its retained
  // settings would keep it counting the decommissioned shelf under its old id).
  const named = new Set(out.map(({ site, settings }) => `${site}/${settings.agent}`));
  for (const [key, prev] of Object.entries(known)) {
    if (named.has(key)) continue;
    const [site, agent] = key.split('/') as [string, string];
    const body: LaneSettingsPayload = { agent, revision: 0, shelves: [] };
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const revision =
      prev.hash === hash ? prev.revision : Math.max(prev.revision + 1, Math.floor(now() / 1000));
    next[key] = { hash, revision };
    out.push({ site, settings: { ...body, revision } });
  }
  if (JSON.stringify(next) !== JSON.stringify(known)) writeAtomic(file, `${JSON.stringify(next, null, 1)}\n`);
  return out;
}

/** Publishes the settings retained with QoS 1 through the broker itself. */
export async function publishLaneSettings(
  aedes: Aedes,
  map: ShelfMap,
  dataDir: string,
  log: Logger,
): Promise<number> {
  const all = laneSettingsWithRevisions(map, dataDir, log);
  await Promise.all(
    all.map(
      ({ site, settings }) =>
        new Promise<void>((resolve, reject) => {
          aedes.publish(
            {
              cmd: 'publish',
              topic: topics.laneSettings(site, settings.agent),
              payload: Buffer.from(JSON.stringify(settings)),
              qos: 1,
              retain: true,
              dup: false,
            },
            (err?: Error | null) => (err ? reject(err) : resolve()),
          );
        }),
    ),
  );
  log.info({ agents: all.length }, 'lane settings published');
  return all.length;
}
