import { spawnSync } from 'node:child_process';
import { isReplenishmentError, ReplenishmentErrorCodes } from '@shelfsense/central/store';
import {
  assertWebhook,
  computeSignature,
  signedHeaders,
  verifyWebhook,
  WebhookHeaders,
} from '@shelfsense/central/webhooks';
import { describe, expect, it } from 'vitest';

const SECRET = 'whsec_test_0123456789abcdef';
const NOW = 1_700_000_000_000;
const BODY = JSON.stringify({ orderId: 'ord_1', state: 'open', quantity: 12 });
const TOL = 300_000;

/** As Node's http server hands them over: lower-case names. */
function nodeHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('webhooks: HMAC-SHA256 signature over "timestamp.body"', () => {
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
    expect(verifyWebhook(SECRET, nodeHeaders(headers), BODY, TOL, NOW)).toEqual({
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
    const h = nodeHeaders(headers);
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
    const h = nodeHeaders(headers);
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
