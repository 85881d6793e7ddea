/**
 * Webhook signatures. Each request carries
 *
 *   Shelfsense-Timestamp: <ms since the epoch>
 *   Shelfsense-Signature: v1=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
 *   Idempotency-Key: <stable per order transition>
 *
 * Signing the timestamp with the body means a captured request cannot be replayed later: the
 * receiver rejects a timestamp outside its tolerance, and cannot be fooled into a fresh one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';

export const WebhookHeaders = {
  timestamp: 'Shelfsense-Timestamp',
  signature: 'Shelfsense-Signature',
  idempotencyKey: 'Idempotency-Key',
  eventId: 'Shelfsense-Event-Id',
  attempt: 'Shelfsense-Delivery-Attempt',
} as const;

export const SIGNATURE_VERSION = 'v1';

/** Hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function computeSignature(
  secret: string,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  const h = createHmac('sha256', secret);
  h.update(`${timestamp}.`);
  h.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return h.digest('hex');
}

export interface SignedHeadersInput {
  timestamp: number;
  idempotencyKey: string;
  eventId: string;
  attempt: number;
}

/** The headers of one delivery attempt (the body is sent as is: sign exactly what you send). */
export function signedHeaders(secret: string, body: string, h: SignedHeadersInput): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    [WebhookHeaders.timestamp]: String(h.timestamp),
    [WebhookHeaders.signature]: `${SIGNATURE_VERSION}=${computeSignature(secret, h.timestamp, body)}`,
    [WebhookHeaders.idempotencyKey]: h.idempotencyKey,
    [WebhookHeaders.eventId]: h.eventId,
    [WebhookHeaders.attempt]: String(h.attempt),
  };
}

/** Node's `req.headers`, a fetch `Headers`, or any name → value map (names matched case-insensitively). */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyFailure =
  | 'missing-timestamp'
  | 'bad-timestamp'
  | 'stale'
  | 'missing-signature'
  | 'bad-signature';

export type VerifyResult =
  | { ok: true; timestamp: number; idempotencyKey: string | null }
  | { ok: false; reason: VerifyFailure; message: string };

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  }
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (k.toLowerCase() === want) return Array.isArray(v) ? v.join(',') : (v as string | undefined);
  }
  return undefined;
}

const fail = (reason: VerifyFailure, message: string): VerifyResult => ({ ok: false, reason, message });

/**
 * Verifies a webhook request: the signature over `${timestamp}.${body}` with `secret` (or any of
 * several secrets, while rotating), and a timestamp no further than `toleranceMs` from `now`.
 * `body` must be the raw bytes received, before any JSON parsing.
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  toleranceMs: number,
  now: number = Date.now(),
): VerifyResult {
  const ts = header(headers, WebhookHeaders.timestamp)?.trim();
  if (!ts) return fail('missing-timestamp', `no ${WebhookHeaders.timestamp} header`);
  if (!/^\d{1,16}$/.test(ts))
    return fail('bad-timestamp', `${WebhookHeaders.timestamp} is not a number of ms`);
  const timestamp = Number(ts);
  if (Math.abs(now - timestamp) > toleranceMs) {
    return fail(
      'stale',
      `timestamp is ${Math.round((now - timestamp) / 1000)} s from now (tolerance ${toleranceMs} ms)`,
    );
  }
  const sigHeader = header(headers, WebhookHeaders.signature);
  if (!sigHeader) return fail('missing-signature', `no ${WebhookHeaders.signature} header`);
  const offered = sigHeader
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(`${SIGNATURE_VERSION}=`))
    .map((p) => Buffer.from(p.slice(SIGNATURE_VERSION.length + 1), 'hex'));
  if (offered.length === 0) return fail('missing-signature', `no ${SIGNATURE_VERSION}= signature`);
  for (const s of typeof secret === 'string' ? [secret] : secret) {
    const expected = Buffer.from(computeSignature(s, ts, body), 'hex');
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) {
      return { ok: true, timestamp, idempotencyKey: header(headers, WebhookHeaders.idempotencyKey) ?? null };
    }
  }
  return fail('bad-signature', 'signature does not match');
}

/** verifyWebhook that throws SHELF_ERR_WEBHOOK_SIGNATURE instead of returning a failure. */
export function assertWebhook(
  secret: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  toleranceMs: number,
  now: number = Date.now(),
): { timestamp: number; idempotencyKey: string | null } {
  const r = verifyWebhook(secret, headers, body, toleranceMs, now);
  if (!r.ok) {
    throw new ReplenishmentError(
      ReplenishmentErrorCodes.WEBHOOK_SIGNATURE,
      `webhook rejected: ${r.message}`,
      [{ path: r.reason, message: r.message }],
    );
  }
  return { timestamp: r.timestamp, idempotencyKey: r.idempotencyKey };
}
