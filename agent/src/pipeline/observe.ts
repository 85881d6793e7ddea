/**
 * What a lane's weight says beyond its count. The lane counter (count.ts) finds settled levels and
 * hands every step between two of them here, with the disturbances between levels; this decides
 * what each was:
 *
 * - a whole number of the lane's items: a pick or restock (the counter counts it);
 * - lifting something put down before (an object's step back): the object is gone;
 * - a whole count of another lane's item on the shelf, not of this one's: `misplaced-item`;
 * - any other mass put down: `foreign-object` once it stayed `objectMs`; lifted sooner, a `hand`;
 * - steps that keep failing to be whole while a common step explains them all: the configured unit
 *   weight is wrong (`unit-weight`, `wrong: true`) and the lane stops counting until its settings
 *   change to a weight that explains them. A lane without a SKU has no trusted unit weight: its steps
 *   propose one (`wrong: false`) as soon as they agree;
 * - a lasting force that never settles: `lean`; a brief one that leaves the level as it was: `hand`;
 * - a different count after a cell fault: `tamper`, cause `cell`.
 *
 * Objects and misplaced items are kept out of the count (the counter subtracts `objectG`), so
 * neither putting one down nor lifting it off changes the count. Runs only on a step or a
 * disturbance, never per frame: it may allocate.
 */
import type { ObservationKind, UnitWeightProposal } from '@shelfsense/protocol';
import { explains, greatestCommonStep, type StepFit, wholeSteps } from './steps.js';

export interface LaneObservation {
  lane: string;
  sku: string | null;
  /** Ties an open observation to its cleared one; unique within the pipeline. */
  id: number;
  kind: ObservationKind;
  state: 'open' | 'cleared';
  grams: number;
  items: number | null;
  otherLane: string | null;
  cause: 'cell' | null;
  proposal: UnitWeightProposal | null;
  detail: string;
  /** Frame the observation is known true of, and its device time. */
  frameSeq: number;
  deviceT: number;
}

/** What the observer reads of its lane. */
export interface ObservedLane {
  readonly id: string;
  readonly sku: string | null;
  readonly unitWeightG: number;
  /** Noise of one settled level, grams. */
  readonly levelSigmaG: number;
}

/** Shared by the lanes of one shelf. */
export interface ObserveContext {
  siblings(): readonly { readonly id: string; readonly unitWeightG: number }[];
  emit(o: LaneObservation): void;
  nextId(): number;
}

interface Placed {
  id: number;
  kind: 'foreign-object' | 'misplaced-item';
  grams: number;
  sinceT: number;
  published: boolean;
  otherLane: string | null;
  /** Counted among the unexplained steps of the current segment. */
  unexplained: boolean;
}

/** Device ms a mass must stay before it is reported as a foreign object (sooner gone: a hand). */
export const OBJECT_MS = 3_000;
/** Device ms a disturbance must last to be a lean, and the times its force must have turned back. */
export const LEAN_MS = 3_000;
export const LEAN_WOBBLES = 4;
/** Device ms a disturbance must last to be reported as a hand. */
export const HAND_MS = 250;
/** Unexplained steps before a trusted unit weight is called wrong; steps before any proposal. */
const WRONG_AFTER = 2;
const PROPOSE_AFTER = 3;
const RING = 32;

export class LaneObserver {
  /** Mass on the lane that is not its items, grams: the counter subtracts it. */
  objectG = 0;
  /** The unit weight does not explain the steps: the count is held. */
  hold = false;
  /** A foreign object waits for OBJECT_MS before it is reported (meanwhile the lane is anomalous). */
  pending = false;
  /** The part of objectG still waiting, grams. */
  pendingG = 0;
  /** Steps since the first one the unit weight did not explain. */
  private segment: number[] = [];
  private unexplained = 0;
  /** The newest step is the segment's last entry (to be corrected by the next step). */
  private lastInSegment = false;
  private readonly placed: Placed[] = [];
  private unit: { id: number; proposal: UnitWeightProposal } | null = null;
  /** The character of this lane's items: residuals of their whole steps (per √items), squared. */
  private itemSteps = 0;
  private itemResSq = 0;
  private lean: { id: number; grams: number } | null = null;
  private tamper: { id: number; grams: number; items: number } | null = null;
  private lane: ObservedLane;

  constructor(
    lane: ObservedLane,
    private readonly ctx: ObserveContext,
  ) {
    this.lane = lane;
  }

  /** Whether a lean is open. */
  get leaning(): boolean {
    return this.lean !== null;
  }

  private get trusted(): boolean {
    return this.lane.sku !== null;
  }

  /** Tolerance of a step against whole items, grams (for one item; grows with √n). */
  private get itemTolG(): number {
    const u = this.lane.unitWeightG;
    return Math.min(0.3 * u, Math.max(0.15 * u, 4 * this.stepSigmaG));
  }

  /** Noise of a step (the difference of two levels), grams. */
  private get stepSigmaG(): number {
    const s = this.lane.levelSigmaG;
    return Number.isFinite(s) ? Math.SQRT2 * s : 0.5;
  }

  /**
   * Tolerance of the common-step fit, grams: a few σ of a step. The σ of a settled level assumes
   * independent samples; the median before the average loses about a fifth of that, hence 4.5 σ.
   */
  private get fitTolG(): number {
    return Math.max(0.3, 4.5 * this.stepSigmaG);
  }

  /**
   * A new settled level, `stepG` from the one before; `prevMoveG`: how far that one moved after it
   * was confirmed (its filters were still settling), which corrects the step that led to it.
   */
  step(stepG: number, prevMoveG: number, seq: number, t: number): void {
    const last = this.segment.length - 1;
    if (this.lastInSegment && last >= 0) this.segment[last] = (this.segment[last] as number) + prevMoveG;
    this.lastInSegment = false;
    if (this.segment.length >= RING) this.segment.shift();
    if (stepG < 0 && this.placed.length > 0 && this.lifted(stepG, seq, t)) return;
    const u = this.lane.unitWeightG;
    const n = wholeSteps(stepG, u, this.itemTolG);
    const inSegment = this.hold || this.segment.length > 0;
    if (n !== 0 && !this.hold && this.unlikeItems(stepG, n)) {
      this.put('foreign-object', stepG, t, false);
      return;
    }
    if (n !== 0 && !this.hold) {
      if (inSegment) {
        this.segment.push(stepG);
        this.lastInSegment = true;
        this.checkUnit(seq, t);
      }
      return;
    }
    if (!this.hold && this.trusted && stepG > 0 && this.misplaced(stepG, seq, t)) return;
    this.segment.push(stepG);
    this.lastInSegment = true;
    this.unexplained++;
    if (this.checkUnit(seq, t)) return;
    if (!this.hold && this.trusted && stepG > 0) this.put('foreign-object', stepG, t, true);
  }

  /** Something put down that is kept out of the count; reported once it stayed OBJECT_MS. */
  private put(kind: 'foreign-object', grams: number, t: number, unexplained: boolean): void {
    this.placed.push({
      id: this.ctx.nextId(),
      kind,
      grams,
      sinceT: t,
      published: false,
      otherLane: null,
      unexplained,
    });
    this.objectG += grams;
    this.settlePending();
  }

  /**
   * A step put down that weighs like `n` items but is out of character for this lane's items: its
   * distance from n × unit is far beyond what the lane's own picks and restocks show (learned from
   * at least 5 of them) and beyond the noise. Otherwise the step joins what is learned.
   */
  private unlikeItems(stepG: number, n: number): boolean {
    if (!this.trusted) return false;
    const e = (stepG - n * this.lane.unitWeightG) / Math.sqrt(Math.abs(n));
    if (stepG > 0 && this.itemSteps >= 5) {
      const rms = Math.sqrt(this.itemResSq / this.itemSteps);
      const limit = Math.max(6 * rms, 6 * this.stepSigmaG, 0.04 * this.lane.unitWeightG);
      if (Math.abs(e) > limit) return true;
    }
    this.itemSteps++;
    this.itemResSq += e * e;
    return false;
  }

  /** Reports foreign objects that stayed OBJECT_MS (called while `pending`). */
  tick(seq: number, t: number): void {
    for (const p of this.placed) {
      if (p.published || t - p.sinceT < OBJECT_MS) continue;
      p.published = true;
      const whole = wholeSteps(p.grams, this.lane.unitWeightG, this.itemTolG) !== 0;
      this.send(p.id, p.kind, 'open', p.grams, seq, t, {
        detail: whole
          ? 'weighs like whole items but out of character for them'
          : 'a mass that is no whole count of items',
      });
    }
    this.settlePending();
  }

  private settlePending(): void {
    let g = 0;
    let waiting = false;
    for (const p of this.placed) {
      if (p.published) continue;
      waiting = true;
      g += p.grams;
    }
    this.pending = waiting;
    this.pendingG = g;
  }

  /** A step down that takes off something put down before. */
  private lifted(stepG: number, seq: number, t: number): boolean {
    const tol = this.itemTolG;
    let best = -1;
    let bestE = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.placed.length; i++) {
      const e = Math.abs(stepG + (this.placed[i] as Placed).grams);
      if (e <= tol && e < bestE) {
        best = i;
        bestE = e;
      }
    }
    if (best < 0) return false;
    const p = this.placed.splice(best, 1)[0] as Placed;
    this.objectG = this.placed.reduce((g, q) => g + q.grams, 0);
    if (p.published) this.send(p.id, p.kind, 'cleared', p.grams, seq, t, { otherLane: p.otherLane });
    else if (p.kind === 'foreign-object') {
      // Gone before it counted as left there: a hand resting on the lane for a moment.
      this.send(p.id, 'hand', 'open', p.grams, seq, t, { detail: 'a still hand' });
      this.send(p.id, 'hand', 'cleared', p.grams, seq, t, {});
    }
    if (p.unexplained) this.unexplained = Math.max(0, this.unexplained - 1);
    if (this.placed.length === 0 && !this.hold && this.trusted) this.resetSegment();
    this.settlePending();
    return true;
  }

  /** A step that is a whole count of another lane's item and not of this one's. */
  private misplaced(stepG: number, seq: number, t: number): boolean {
    const tol = this.fitTolG;
    let other: string | null = null;
    let bestE = Number.POSITIVE_INFINITY;
    for (const s of this.ctx.siblings()) {
      if (s.id === this.lane.id) continue;
      const m = wholeSteps(stepG, s.unitWeightG, tol);
      if (m < 1 || m > 3) continue;
      const e = Math.abs(stepG - m * s.unitWeightG);
      if (e < bestE) {
        bestE = e;
        other = s.id;
      }
    }
    if (other === null) return false;
    const p: Placed = {
      id: this.ctx.nextId(),
      kind: 'misplaced-item',
      grams: stepG,
      sinceT: t,
      published: true,
      otherLane: other,
      unexplained: false,
    };
    this.placed.push(p);
    this.objectG += stepG;
    this.send(p.id, p.kind, 'open', stepG, seq, t, {
      otherLane: other,
      detail: `weighs like lane ${other}'s items`,
    });
    return true;
  }

  /** Proposes a unit weight from the segment's steps; true when the lane's weight is now held wrong. */
  private checkUnit(seq: number, t: number): boolean {
    const steps = this.segment;
    const u = this.lane.unitWeightG;
    const enough = this.trusted
      ? this.unexplained >= WRONG_AFTER && steps.length >= PROPOSE_AFTER
      : steps.length >= PROPOSE_AFTER;
    if (!enough || explains(steps, u, this.itemTolG)) return false;
    const fit = this.fit(steps);
    if (!fit || Math.abs(fit.unitWeightG - u) <= 0.02 * u) return false;
    const proposal: UnitWeightProposal = {
      unitWeightG: Math.round(fit.unitWeightG * 1000) / 1000,
      confidence: Math.round(fit.confidence * 1000) / 1000,
      steps: fit.steps,
      wrong: this.trusted,
    };
    const first = this.unit === null;
    // Said again (same observation) whenever it rests on more steps: central keeps the latest.
    const moved = first || proposal.steps !== (this.unit as { proposal: UnitWeightProposal }).proposal.steps;
    if (first) this.unit = { id: this.ctx.nextId(), proposal };
    else (this.unit as { proposal: UnitWeightProposal }).proposal = proposal;
    if (!this.hold) {
      this.hold = true;
      this.retractSegmentObjects(seq, t);
    }
    if (moved) {
      const id = (this.unit as { id: number }).id;
      this.send(id, 'unit-weight', 'open', proposal.unitWeightG, seq, t, {
        proposal,
        detail: this.trusted
          ? `steps are whole multiples of ${proposal.unitWeightG} g, not of ${u} g`
          : `steps are whole multiples of ${proposal.unitWeightG} g`,
      });
    }
    return true;
  }

  private fit(steps: readonly number[]): StepFit | null {
    const minStep = Math.min(...steps.map(Math.abs));
    return greatestCommonStep(steps, { tolG: this.fitTolG, minUnitG: 0.3 * minStep });
  }

  /** The steps were items of another weight, not objects: take those objects back. */
  private retractSegmentObjects(seq: number, t: number): void {
    for (let i = this.placed.length - 1; i >= 0; i--) {
      const p = this.placed[i] as Placed;
      if (!p.unexplained) continue;
      this.placed.splice(i, 1);
      if (p.published)
        this.send(p.id, p.kind, 'cleared', p.grams, seq, t, { detail: 'items of another weight' });
    }
    this.objectG = this.placed.reduce((g, q) => g + q.grams, 0);
    this.settlePending();
  }

  private resetSegment(): void {
    this.segment = [];
    this.unexplained = 0;
  }

  /**
   * The lane's settings changed (the same channels): a unit weight that explains the steps clears
   * the proposal and counting resumes (the counter recounts, an adjust).
   */
  rebase(lane: ObservedLane, seq: number, t: number): void {
    const unitChanged = lane.unitWeightG !== this.lane.unitWeightG;
    this.lane = lane;
    if (!unitChanged && this.trusted === (lane.sku !== null)) return;
    if (!this.unit) {
      this.resetSegment();
      return;
    }
    // The steps themselves must fit the new weight, within their noise (not a whole item's slack).
    if (explains(this.segment, lane.unitWeightG, 1.5 * this.fitTolG)) {
      const { id, proposal } = this.unit;
      this.send(id, 'unit-weight', 'cleared', proposal.unitWeightG, seq, t, { proposal });
      this.unit = null;
      this.hold = false;
      this.resetSegment();
    }
  }

  /** A disturbance has lasted LEAN_MS: a lean, `grams` its largest force seen so far. */
  openLean(grams: number, seq: number, t: number): void {
    if (this.lean) return;
    this.lean = { id: this.ctx.nextId(), grams };
    this.send(this.lean.id, 'lean', 'open', grams, seq, t, {
      detail: 'a lasting force that does not settle',
    });
  }

  /** The lane settled again after a disturbance of `ms` with peak force `grams`; `same`: at the level it left. */
  disturbanceEnded(ms: number, grams: number, same: boolean, bandG: number, seq: number, t: number): void {
    if (this.lean) {
      this.send(this.lean.id, 'lean', 'cleared', this.lean.grams, seq, t, {});
      this.lean = null;
      return;
    }
    if (!same || ms < HAND_MS || !(Math.abs(grams) > bandG)) return;
    if (wholeSteps(grams, this.lane.unitWeightG, this.itemTolG) !== 0) return;
    const id = this.ctx.nextId();
    this.send(id, 'hand', 'open', grams, seq, t, { detail: 'a brief force that went away' });
    this.send(id, 'hand', 'cleared', grams, seq, t, {});
  }

  /** The first count after a cell fault differs from the one before it by `items`. */
  cellTamper(items: number, seq: number, t: number): void {
    const grams = items * this.lane.unitWeightG;
    if (this.tamper)
      this.send(this.tamper.id, 'tamper', 'cleared', this.tamper.grams, seq, t, { cause: 'cell' });
    this.tamper = { id: this.ctx.nextId(), grams, items };
    this.send(this.tamper.id, 'tamper', 'open', grams, seq, t, {
      cause: 'cell',
      detail: `count changed by ${items} while a cell was disconnected`,
    });
  }

  /** A pick or restock was counted: the lane counts normally again, a tamper is over. */
  counted(seq: number, t: number): void {
    if (!this.tamper) return;
    this.send(this.tamper.id, 'tamper', 'cleared', this.tamper.grams, seq, t, { cause: 'cell' });
    this.tamper = null;
  }

  /** Clears everything open (the lane went away or moved to other channels). */
  closeAll(seq: number, t: number): void {
    for (const p of this.placed) if (p.published) this.send(p.id, p.kind, 'cleared', p.grams, seq, t, {});
    if (this.unit)
      this.send(this.unit.id, 'unit-weight', 'cleared', this.unit.proposal.unitWeightG, seq, t, {});
    if (this.lean) this.send(this.lean.id, 'lean', 'cleared', this.lean.grams, seq, t, {});
    if (this.tamper)
      this.send(this.tamper.id, 'tamper', 'cleared', this.tamper.grams, seq, t, { cause: 'cell' });
    this.placed.length = 0;
    this.objectG = 0;
    this.unit = null;
    this.lean = null;
    this.tamper = null;
    this.hold = false;
    this.settlePending();
    this.resetSegment();
  }

  private send(
    id: number,
    kind: ObservationKind,
    state: 'open' | 'cleared',
    grams: number,
    seq: number,
    t: number,
    more: {
      otherLane?: string | null;
      cause?: 'cell' | null;
      proposal?: UnitWeightProposal | null;
      detail?: string;
    },
  ): void {
    const u = this.lane.unitWeightG;
    this.ctx.emit({
      lane: this.lane.id,
      sku: this.lane.sku,
      id,
      kind,
      state,
      grams: Math.round(grams * 10) / 10,
      items: kind === 'unit-weight' ? null : Math.round((grams / u) * 100) / 100,
      otherLane: more.otherLane ?? null,
      cause: more.cause ?? null,
      proposal: more.proposal ?? null,
      detail: more.detail ?? '',
      frameSeq: seq,
      deviceT: t,
    });
  }
}
