/**
 * Read pacing: a source that has just read pauses, and one shared timer resumes every paused
 * source `intervalMs` later. What a shelf sends meanwhile waits in the kernel's socket buffer and
 * comes in one read, so the agent wakes ~20 times a second per source instead of once per frame:
 * at a shelf's real rate the wake-up (poll, read, callback) costs more than the frame itself.
 * A read that fills the source's whole buffer means a backlog and does not pause. Counting runs on
 * the device clock, so pacing delays readings by at most `intervalMs` and changes nothing else.
 */
export class ReadPacer {
  private readonly due = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly intervalMs: number) {}

  /** True when pacing is on (intervalMs > 0). */
  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /** Calls `resume` on the next tick of the shared timer. */
  later(resume: () => void): void {
    this.due.add(resume);
    this.timer ??= setTimeout(() => this.fire(), this.intervalMs);
  }

  /** Forgets a pending `resume` (the source closed or stopped). */
  cancel(resume: () => void): void {
    this.due.delete(resume);
    if (this.due.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private fire(): void {
    this.timer = null;
    const list = [...this.due];
    this.due.clear();
    for (const resume of list) resume();
  }
}
