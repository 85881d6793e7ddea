/**
 * How every part names its log lines: one key, `part`, holding a dotted path from the process
 * down — `demo.central.ingest`, `agent.link`, `sim.control` — so each line carries each key once.
 *
 * pino writes a child's bindings after its parent's and never drops a key the parent already
 * wrote (its documented "duplicate keys caveat"): `log.child({ part: 'ingest' })` under a
 * `part: 'central'` logger gives `"part":"central","part":"ingest"`, which JSON.parse reads as the
 * last one and a strict parser or a log shipper may reject. So the path is not a binding: a root
 * logger made with `partMixin` writes it from the logger a line comes from, and `childLogger`
 * extends it. Other keys (`shelf`, `serial`, `transport`, …) are bound once, where they are known.
 *
 * This module does not import pino (the contract package stays free of it); it works on any
 * logger with pino's `child()` and `bindings()`.
 */

/** The dotted part path of a logger, kept on the logger object (children inherit it). */
export const LOG_PART: unique symbol = Symbol.for('shelfsense.log.part');

export interface PartLogger<L> {
  child(bindings: Record<string, unknown>): L;
  bindings(): Record<string, unknown>;
}

type WithPart = { [LOG_PART]?: string };

/** pino's `mixin` option for a root logger: adds `part` from the logger that writes the line. */
export function partMixin(_merge: object, _level: number, logger: object): Record<string, unknown> {
  const part = (logger as WithPart)[LOG_PART];
  return part === undefined ? {} : { part };
}

/**
 * Names a root logger, which must have been created with `mixin: partMixin`:
 * `rootLogger(pino({ level, mixin: partMixin }, pino.destination(2)), 'central')`.
 */
export function rootLogger<L extends object>(log: L, part: string): L {
  (log as WithPart)[LOG_PART] = part;
  return log;
}

/**
 * A child logger for a part of `log`'s part: `childLogger(log, 'ingest')` under `central` logs
 * `part: 'central.ingest'`, with `bindings` added as keys of their own. A module naming itself
 * under a logger already named for it (`rules` under `central.rules`) keeps that name.
 */
export function childLogger<L extends PartLogger<L>>(
  log: L,
  part: string,
  bindings: Record<string, unknown> = {},
): L {
  const parent = (log as WithPart)[LOG_PART];
  if (typeof parent === 'string') {
    if ((parent === part || parent.endsWith(`.${part}`)) && Object.keys(bindings).length === 0) return log;
    const child = log.child(bindings);
    (child as WithPart)[LOG_PART] = `${parent}.${part}`;
    return child;
  }
  // A logger made elsewhere (a test's, an embedding application's) has no part mixin: bind the
  // part if that binds it once, else leave the name out rather than write the key twice.
  return log.child('part' in log.bindings() ? bindings : { part, ...bindings });
}
