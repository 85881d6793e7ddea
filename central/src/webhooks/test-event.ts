/**
 * A supplier's webhook tried by hand: one signed `test` event (the headers every delivery carries)
 * and what the endpoint answered. Not queued, not retried: a person waits for the answer.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookTestResponse } from '@shelfsense/protocol';
import { signedHeaders } from './sign.js';

/** A new webhook signing secret: 32 random bytes, in the `whsec_` form Standard Webhooks libraries take. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Sends one signed `test` event to the supplier's webhook and reports what it answered. */
export async function testWebhook(
  hook: { url: string; secret: string },
  supplier: string,
  now: number,
  timeoutMs: number,
): Promise<WebhookTestResponse> {
  const eventId = randomUUID();
  const body = JSON.stringify({ type: 'test', eventId, supplier, ts: now });
  const headers = signedHeaders(hook.secret, body, {
    timestamp: now,
    idempotencyKey: eventId,
    eventId,
    attempt: 1,
  });
  const started = performance.now();
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.min(timeoutMs, 10_000)),
    });
    const text = (await res.text()).slice(0, 2048);
    return {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      durationMs: Math.round(performance.now() - started),
      body: text,
      error: null,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return {
      ok: false,
      status: null,
      durationMs: Math.round(performance.now() - started),
      body: null,
      error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.message ?? e.message),
    };
  }
}
