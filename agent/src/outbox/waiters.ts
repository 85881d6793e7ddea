/**
 * Readers waiting for the outbox to grow (a publisher that has caught up). Each waiter re-checks
 * its own condition on every wake-up, so one append wakes every reader it concerns and no other.
 */
export class Waiters {
  private readonly waiting = new Set<() => void>();

  /**
   * Resolves true once `ready()` holds, false once `gone()` does (closed or aborted); checks at
   * once, then on each `wakeAll()` and on abort.
   */
  wait(ready: () => boolean, gone: () => boolean, signal?: AbortSignal): Promise<boolean> {
    if (gone()) return Promise.resolve(false);
    if (ready()) return Promise.resolve(true);
    return new Promise((done) => {
      const wake = (): void => {
        const over = gone();
        if (!over && !ready()) return;
        this.waiting.delete(wake);
        signal?.removeEventListener('abort', wake);
        done(!over);
      };
      this.waiting.add(wake);
      signal?.addEventListener('abort', wake);
    });
  }

  wakeAll(): void {
    for (const wake of this.waiting) wake();
  }
}
