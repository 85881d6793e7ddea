import { spawnSync } from 'node:child_process';
import { isReplenishmentError, ReplenishmentErrorCodes } from '@shelfsense/central/store';
import {
  assertWebhook,
  computeSignature,
  isRawSecret,
  newSecret,
  signedHeaders,
  verifyWebhook,
  WebhookHeaders,
} from '@shelfsense/central/webhooks';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';

const SECRET = 'test-secret-0123456789abcdef';
const NOW = 1_700_000_000_000;
const BODY = JSON.stringify({ orderId: 'ord_1', state: 'open', quantity: 12 });
const TOL = 300_000;

/** As Node's http server hands them over: lower-case names. */
function nodeHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Only the earlier Shelfsense headers, as a receiver written before Standard Webhooks reads them. */
function legacyOnly(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(nodeHeaders(h)).filter(([k]) => !k.startsWith('webhook-')));
}

describe('webhooks: the earlier HMAC-SHA256 signature over "timestamp.body"', () => {
  const headers = signedHeaders(SECRET, BODY, {
    timestamp: NOW,
    idempotencyKey: 'ord_1:open',
    eventId: 'evt_1',
    attempt: 1,
  });

  it('signs with the documented headers and verifies with Node headers or a fetch Headers object', () => {
    expect(headers[WebhookHeaders.timestamp]).toBe(String(NOW));
    expect(headers[WebhookHeaders.signature]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(headers[WebhookHeaders.idempotencyKey]).toBe('ord_1:open');
    expect(verifyWebhook(SECRET, legacyOnly(headers), BODY, TOL, NOW)).toEqual({
      ok: true,
      timestamp: NOW,
      idempotencyKey: 'ord_1:open',
    });
    expect(verifyWebhook(SECRET, new Headers(headers), Buffer.from(BODY), TOL, NOW + 1_000).ok).toBe(true);
  });

  it('matches `openssl dgst -sha256 -hmac` (the shell example in docs/webhooks.md)', () => {
    const r = spawnSync('openssl', ['dgst', '-sha256', '-hmac', SECRET], {
      input: `${NOW}.${BODY}`,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split(/\s+/).at(-1)).toBe(computeSignature(SECRET, NOW, BODY));
  });

  it('rejects a wrong secret, a changed body, a changed timestamp and missing headers', () => {
    const h = legacyOnly(headers);
    expect(verifyWebhook('another-secret-entirely', h, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyWebhook(SECRET, h, BODY.replace('12', '120'), TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    const moved = { ...h, 'shelfsense-timestamp': String(NOW + 1) };
    expect(verifyWebhook(SECRET, moved, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    const { 'shelfsense-signature': _s, ...noSig } = h;
    expect(verifyWebhook(SECRET, noSig, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'missing-signature',
    });
    const { 'shelfsense-timestamp': _t, ...noTs } = h;
    expect(verifyWebhook(SECRET, noTs, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'missing-timestamp',
    });
    expect(verifyWebhook(SECRET, { ...h, 'shelfsense-timestamp': '17e11' }, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'bad-timestamp',
    });
    expect(verifyWebhook(SECRET, { ...h, 'shelfsense-signature': 'v0=abcd' }, BODY, TOL, NOW)).toMatchObject({
      ok: false,
      reason: 'missing-signature',
    });
  });

  it('[replay] rejects a timestamp outside the tolerance, in the past or the future', () => {
    const h = legacyOnly(headers);
    expect(verifyWebhook(SECRET, h, BODY, TOL, NOW + TOL).ok).toBe(true);
    expect(verifyWebhook(SECRET, h, BODY, TOL, NOW + TOL + 1)).toMatchObject({ ok: false, reason: 'stale' });
    expect(verifyWebhook(SECRET, h, BODY, TOL, NOW - TOL - 1)).toMatchObject({ ok: false, reason: 'stale' });
    try {
      assertWebhook(SECRET, h, BODY, TOL, NOW + 10 * TOL);
      expect.unreachable();
    } catch (err) {
      expect(isReplenishmentError(err, ReplenishmentErrorCodes.WEBHOOK_SIGNATURE)).toBe(true);
    }
  });

  it('accepts any of several secrets while one is being rotated', () => {
    const h = nodeHeaders(headers);
    expect(verifyWebhook(['new-secret-0123456789', SECRET], h, BODY, TOL, NOW).ok).toBe(true);
    expect(verifyWebhook(['new-secret-0123456789'], h, BODY, TOL, NOW).ok).toBe(false);
  });
});

describe('webhooks: Standard Webhooks signature, checked with the reference library', () => {
  const now = Date.now();
  const sign = (secret: string, body = BODY) =>
    nodeHeaders(
      signedHeaders(secret, body, {
        timestamp: now,
        idempotencyKey: 'ord_1:open',
        eventId: 'evt_9',
        attempt: 2,
      }),
    );

  it('a whsec_ secret (as the central makes them) verifies with `new Webhook(secret)`', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(isRawSecret(secret)).toBe(false);
    const h = sign(secret);
    expect(h['webhook-id']).toBe('evt_9');
    expect(h['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(BODY, h)).toEqual(JSON.parse(BODY));
    expect(verifyWebhook(secret, h, BODY, TOL, now)).toEqual({
      ok: true,
      timestamp: Math.floor(now / 1000) * 1000,
      idempotencyKey: 'ord_1:open',
    });
  });

  it('any other secret is the raw key: `new Webhook(secret, { format: "raw" })`', () => {
    expect(isRawSecret(SECRET)).toBe(true);
    const h = sign(SECRET);
    expect(new Webhook(SECRET, { format: 'raw' }).verify(BODY, h)).toEqual(JSON.parse(BODY));
    expect(() => new Webhook(Buffer.from(SECRET).toString('base64')).verify(BODY, h)).not.toThrow();
  });

  it('the library refuses a changed body, id, timestamp or another secret', () => {
    const secret = newSecret();
    const h = sign(secret);
    const wh = new Webhook(secret);
    expect(() => wh.verify(`${BODY} `, h)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(BODY, { ...h, 'webhook-id': 'evt_10' })).toThrow(WebhookVerificationError);
    expect(() => wh.verify(BODY, { ...h, 'webhook-timestamp': String(Math.floor(now / 1000) - 1) })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(newSecret()).verify(BODY, h)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(BODY, staleBy(h, 600))).toThrow(/too old/);
  });

  it('our own verifier reads the standard headers first and rejects what the library rejects', () => {
    const secret = newSecret();
    const h = sign(secret);
    expect(verifyWebhook(secret, { ...h, 'webhook-id': 'evt_10' }, BODY, TOL, now)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyWebhook(secret, { ...h, 'webhook-timestamp': '1.5e9' }, BODY, TOL, now)).toMatchObject({
      ok: false,
      reason: 'bad-timestamp',
    });
    expect(verifyWebhook(secret, staleBy(h, 600), BODY, TOL, now)).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    const { 'webhook-id': _id, ...noId } = h;
    expect(verifyWebhook(secret, noId, BODY, TOL, now)).toMatchObject({
      ok: false,
      reason: 'missing-signature',
    });
    // A receiver that knows only the earlier headers still verifies the same request.
    expect(verifyWebhook(secret, legacyOnly(h), BODY, TOL, now).ok).toBe(true);
  });

  it('refuses, in config, a whsec_ secret that is not base64 after the prefix', () => {
    const parse = (secret: string) =>
      ReplenishmentConfig.safeParse({
        webhooks: { suppliers: [{ supplier: 'acme', url: 'http://x.example/h', secret }] },
      });
    expect(parse(newSecret()).success).toBe(true);
    expect(parse(SECRET).success).toBe(true);
    const bad = parse('whsec_not_base64_at_all!!');
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/whsec_ secret is whsec_ and base64/);
  });
});

/** The headers with the standard timestamp moved `seconds` into the past: checked for age first. */
function staleBy(h: Record<string, string>, seconds: number): Record<string, string> {
  return { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - seconds) };
}
