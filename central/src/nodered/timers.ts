/**
 * Node-RED's editor sessions arm a timer (@node-red/editor-api lib/auth/tokens.js, callback
 * `expireSessions`) that waits for the earliest session to expire — hours — and re-arms itself.
 * RED.stop() leaves it armed and nothing outside that module can clear it, so after the first
 * editor login it would hold the process open long after central stopped.
 *
 * Once Node-RED is loaded in a process, timers armed with that callback are unref'd: they still
 * expire sessions while the process runs, but never keep it alive. Every other timer passes
 * through untouched. Installed once per process, for as long as Node-RED's modules stay loaded.
 */

const SESSION_TIMER_CALLBACK = 'expireSessions';
let installed = false;

export function unrefNodeRedSessionTimers(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.setTimeout;
  const wrapped = function (this: unknown, ...args: Parameters<typeof setTimeout>) {
    const timer = Reflect.apply(original, this, args) as ReturnType<typeof setTimeout>;
    const callback = args[0];
    if (typeof callback === 'function' && callback.name === SESSION_TIMER_CALLBACK) timer.unref();
    return timer;
  };
  // Keep util.promisify(setTimeout) working: it reads a symbol-keyed property of setTimeout.
  for (const key of Object.getOwnPropertySymbols(original)) {
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (d) Object.defineProperty(wrapped, key, d);
  }
  (globalThis as { setTimeout: typeof setTimeout }).setTimeout = wrapped as unknown as typeof setTimeout;
}
