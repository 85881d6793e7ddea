/**
 * The login session in Chromium: the token is refreshed before it expires, again and again, while
 * live updates keep flowing on the refreshed token; a revoked token logs the user out with a
 * message instead of leaving a broken page.
 */
import { topics } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, type Harness, login, startHarness } from './browser.js';

/** Short tokens: the dashboard refreshes at its floor of 5 s. */
const TOKEN_TTL_MS = 6_000;

async function refreshes(h: Harness, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (h.server.calls.filter((c) => c.path === '/api/login/refresh').length < n) {
    if (Date.now() > deadline)
      throw new Error(
        `fewer than ${n} token refreshes within ${timeoutMs} ms: ${JSON.stringify(h.server.calls.map((c) => c.path))}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('session', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(DESKTOP, { tokenTtlMs: TOKEN_TTL_MS });
    await login(h, 'acme-ops', 'acme-pass', 'Fill levels & orders');
  });
  afterAll(() => h?.close());

  it('[token refresh] refreshes before expiry, repeatedly, with the current token', async () => {
    await refreshes(h, 2, 20_000);
    const [first, second] = h.server.calls.filter((c) => c.path === '/api/login/refresh');
    expect(first?.user).toBe('acme-ops');
    expect(second?.user).toBe('acme-ops');
    // Still served after the original token's lifetime: the API calls use the refreshed token.
    await h.page
      .getByRole('listitem', { name: 'Water 0.5 l at store-1 · shelf-a · L1' })
      .getByRole('button', { name: 'Show history' })
      .click();
    const history = h.server.calls.filter((c) => c.path.includes('/history'));
    await h.page.getByText(/^48 readings;/).waitFor();
    expect(history.at(-1)?.user ?? h.server.calls.at(-1)?.user).toBe('acme-ops');
  });

  it('[live] live updates still arrive after the token was refreshed', async () => {
    const item = h.page.getByRole('listitem', { name: 'Cola 0.33 l at store-1 · shelf-a · L0' });
    await h.server.publish(topics.level('store-1', 'shelf-a', 'L0'), {
      agent: 'pi-1',
      serial: 'SN-shelf-a',
      sku: 'cola-330',
      units: 13,
      grams: 4550,
      fill: 13 / 24,
      stable: true,
      confidence: 0.99,
      state: 'ok',
      ts: Date.now(),
      seq: 2001,
      frameSeq: 9000,
    });
    await item.getByText('13 of 24 items').waitFor();
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(h.errors).toEqual([]);
  });

  it('[expired] a revoked token logs out with a message', async () => {
    h.server.revokeTokens();
    await h.page.getByRole('button', { name: 'Hide history' }).click();
    await h.page.getByRole('button', { name: 'Show history' }).first().click();
    await h.page
      .getByRole('status')
      .filter({ hasText: 'Your session has expired; please log in again.' })
      .waitFor();
    await h.page.getByRole('button', { name: 'Log in' }).waitFor();
  });
});
