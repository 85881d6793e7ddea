/**
 * Webhook signatures. Each request is signed as Standard Webhooks (standardwebhooks.com) specifies,
 * so a supplier can verify it with any of its libraries:
 *
 *   webhook-id: <event id, the same on every retry>
 *   webhook-timestamp: <seconds since the epoch>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>
 *
 * and, until 0.3.0, with the earlier Shelfsense headers as well:
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
  standardId: 'webhook-id',
  standardTimestamp: 'webhook-timestamp',
  standardSignature: 'webhook-signature',
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

const STANDARD_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key of the standard signature. A `whsec_`+base64 secret is decoded, as every Standard
 * Webhooks library does; any other secret is its own UTF-8 bytes (the libraries' `raw` format).
 */
export function standardKey(secret: string): Buffer {
  const rest = secret.startsWith(STANDARD_PREFIX) ? secret.slice(STANDARD_PREFIX.length) : null;
  if (rest !== null && rest.length > 0 && BASE64.test(rest)) return Buffer.from(rest, 'base64');
  return Buffer.from(secret, 'utf8');
}

/** True when a Standard Webhooks library must be given `{ format: 'raw' }` to use this secret. */
export function isRawSecret(secret: string): boolean {
  const rest = secret.startsWith(STANDARD_PREFIX) ? secret.slice(STANDARD_PREFIX.length) : null;
  return !(rest !== null && rest.length > 0 && BASE64.test(rest));
}

/** `v1,` and the base64 HMAC-SHA256 of `${id}.${seconds}.${body}`. */
export function computeStandardSignature(
  secret: string,
  id: string,
  seconds: number | string,
  body: string | Uint8Array,
): string {
  const h = createHmac('sha256', standardKey(secret));
  h.update(`${id}.${seconds}.`);
  h.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return `${SIGNATURE_VERSION},${h.digest('base64')}`;
}

export interface SignedHeadersInput {
  timestamp: number;
  idempotencyKey: string;
  eventId: string;
  attempt: number;
}

/** The headers of one delivery attempt (the body is sent as is: sign exactly what you send). */
export function signedHeaders(secret: string, body: string, h: SignedHeadersInput): Record<string, string> {
  const seconds = Math.floor(h.timestamp / 1000);
  return {
    'Content-Type': 'application/json',
    [WebhookHeaders.standardId]: h.eventId,
    [WebhookHeaders.standardTimestamp]: String(seconds),
    [WebhookHeaders.standardSignature]: computeStandardSignature(secret, h.eventId, seconds, body),
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
 * Verifies a webhook request with `secret` (or any of several secrets, while rotating) and a
 * timestamp no further than `toleranceMs` from `now`: the Standard Webhooks headers when the
 * request has them, else the earlier Shelfsense ones. `body` must be the raw bytes received.
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  toleranceMs: number,
  now: number = Date.now(),
): VerifyResult {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (header(headers, WebhookHeaders.standardSignature) !== undefined) {
    return verifyStandard(secrets, headers, body, toleranceMs, now);
  }
  const ts = header(headers, WebhookHeaders.timestamp)?.trim();
  if (!ts) return fail('missing-timestamp', `no ${WebhookHeaders.timestamp} header`);
  if (!/^\d{1,16}$/.test(ts))
    return fail('bad-timestamp', `${WebhookHeaders.timestamp} is not a number of ms`);
  const timestamp = Number(ts);
  const stale = staleness(timestamp, now, toleranceMs);
  if (stale) return stale;
  const sigHeader = header(headers, WebhookHeaders.signature);
  if (!sigHeader) return fail('missing-signature', `no ${WebhookHeaders.signature} header`);
  const offered = sigHeader
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(`${SIGNATURE_VERSION}=`))
    .map((p) => Buffer.from(p.slice(SIGNATURE_VERSION.length + 1), 'hex'));
  if (offered.length === 0) return fail('missing-signature', `no ${SIGNATURE_VERSION}= signature`);
  for (const s of secrets) {
    const expected = Buffer.from(computeSignature(s, ts, body), 'hex');
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) {
      return { ok: true, timestamp, idempotencyKey: header(headers, WebhookHeaders.idempotencyKey) ?? null };
    }
  }
  return fail('bad-signature', 'signature does not match');
}

function staleness(timestamp: number, now: number, toleranceMs: number): VerifyResult | null {
  if (Math.abs(now - timestamp) <= toleranceMs) return null;
  return fail(
    'stale',
    `timestamp is ${Math.round((now - timestamp) / 1000)} s from now (tolerance ${toleranceMs} ms)`,
  );
}

function verifyStandard(
  secrets: readonly string[],
  headers: HeaderSource,
  body: string | Uint8Array,
  toleranceMs: number,
  now: number,
): VerifyResult {
  const { standardId, standardTimestamp, standardSignature } = WebhookHeaders;
  const id = header(headers, standardId)?.trim();
  if (!id) return fail('missing-signature', `no ${standardId} header`);
  const ts = header(headers, standardTimestamp)?.trim();
  if (!ts) return fail('missing-timestamp', `no ${standardTimestamp} header`);
  if (!/^\d{1,13}$/.test(ts)) return fail('bad-timestamp', `${standardTimestamp} is not a number of seconds`);
  const timestamp = Number(ts) * 1000;
  const stale = staleness(timestamp, now, toleranceMs);
  if (stale) return stale;
  // Space-separated `v1,<base64>` entries; other versions are for other schemes.
  const offered = (header(headers, standardSignature) ?? '')
    .split(' ')
    .filter((p) => p.startsWith(`${SIGNATURE_VERSION},`))
    .map((p) => Buffer.from(p.slice(SIGNATURE_VERSION.length + 1), 'base64'));
  if (offered.length === 0) return fail('missing-signature', `no ${SIGNATURE_VERSION}, signature`);
  for (const s of secrets) {
    const expected = Buffer.from(computeStandardSignature(s, id, ts, body).slice(3), 'base64');
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) {
      return { ok: true, timestamp, idempotencyKey: header(headers, WebhookHeaders.idempotencyKey) ?? id };
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
