import * as z from '../zod.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds: a number of ms, or a string such as `250ms`, `5s`, `2m`, `1h`, `1d`.
 * Every duration in Shelfsense is configurable down to milliseconds so tests can run a day in seconds.
 */
export const Duration = z.union([
  z.number().check(z.int(), z.nonnegative()),
  z.pipe(
    z.pipe(
      z.string().check(z.regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 250ms, 5s, 2m, 1h or 1d')),
      z.transform((s: string) => {
        const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s) as RegExpExecArray;
        return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
      }),
    ),
    // Enough digits make Infinity, which no timer or age can use.
    z.number().check(z.maximum(Number.MAX_SAFE_INTEGER, 'a duration no longer than 2^53 ms')),
  ),
]);

/** The longest a Node timer can wait: 2^31 − 1 ms. A longer delay fires after 1 ms. */
export const TIMER_MAX_MS = 2_147_483_647;

/** A duration some timer waits for (a heartbeat, a retry, a timeout): at most 24.8 days. */
export const TimerDuration = z.pipe(
  Duration,
  z.number().check(z.maximum(TIMER_MAX_MS, 'at most 24.8 days (2^31 − 1 ms), the longest a timer can wait')),
);

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL. */
export const BrokerUrl = z
  .string()
  .check(z.regex(/^(mqtts?|wss?|tcp):\/\/[^\s]+$/, 'an MQTT URL such as mqtt://host:1883 or ws://host/mqtt'));
