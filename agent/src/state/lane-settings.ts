/**
 * Lane settings: which shelf id a serial number is and what its lanes hold. Central publishes them
 * on a retained topic; the agent caches the last copy on disk so it keeps counting offline. Without
 * central, the local config gives them; without either, one lane per channel.
 */
import { join } from 'node:path';
import { type LaneSetting, LaneSettingsPayload, parseWith } from '@shelfsense/protocol';
import type { Logger } from '../log.js';
import { readJson, writeFileAtomic } from './atomic.js';

export interface ShelfSettings {
  shelf: string;
  lanes: LaneSetting[];
}

export interface LocalShelfSettings {
  serial: string;
  shelf?: string | undefined;
  lanes?: LaneSetting[] | undefined;
}

export class LaneSettingsStore {
  private central: LaneSettingsPayload | null = null;
  private readonly file: string;

  constructor(
    dir: string,
    private readonly local: readonly LocalShelfSettings[],
    private readonly defaultUnitWeightG: number,
    private readonly log: Logger,
  ) {
    this.file = join(dir, 'lane-settings.json');
    try {
      const raw = readJson(this.file);
      if (raw !== undefined) this.central = parseWith(LaneSettingsPayload, raw, 'cached lane settings');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cached lane settings unreadable; ignoring them');
    }
  }

  get revision(): number | null {
    return this.central?.revision ?? null;
  }

  /** Applies settings from central; returns false if they are not newer than what we have. */
  applyCentral(settings: LaneSettingsPayload): boolean {
    if (this.central && settings.revision < this.central.revision) return false;
    if (this.central && JSON.stringify(this.central) === JSON.stringify(settings)) return false;
    this.central = settings;
    writeFileAtomic(this.file, `${JSON.stringify(settings)}\n`);
    return true;
  }

  /**
   * Whether someone chose this shelf's id or lanes: the local config (a factory calibration alone
   * does not count), or central's settings. Without central's settings yet, `trustDefaults`
   * decides (an agent that trims on the broker has no central to assign shelves, so its default
   * lanes are the real ones).
   */
  assigned(serial: string, trustDefaults: boolean): boolean {
    if (this.local.some((s) => s.serial === serial && (s.shelf !== undefined || s.lanes !== undefined)))
      return true;
    if (this.central) return this.central.shelves.some((s) => s.serial === serial);
    return trustDefaults;
  }

  /** Settings for one shelf by its serial number and channel count. */
  forShelf(serial: string, channels: number): ShelfSettings {
    const fromCentral = this.central?.shelves.find((s) => s.serial === serial);
    if (fromCentral) return { shelf: fromCentral.shelf, lanes: fromCentral.lanes };
    const fromLocal = this.local.find((s) => s.serial === serial);
    if (fromLocal?.lanes) return { shelf: fromLocal.shelf ?? serial, lanes: fromLocal.lanes };
    return {
      shelf: fromLocal?.shelf ?? serial,
      lanes: Array.from({ length: channels }, (_, ch) => ({
        lane: `ch${ch}`,
        channels: [ch],
        sku: null,
        unitWeightG: this.defaultUnitWeightG,
        capacity: null,
      })),
    };
  }
}
