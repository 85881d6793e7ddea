/**
 * A large CSV export streams with backpressure: every row arrives, the response's listeners are
 * released after each drain (no leak warnings), and a client that goes away mid-export harms
 * nothing.
 */
import { parseCsv } from '@shelfsense/central/http';
import type { ReadingInput } from '@shelfsense/central/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, T0 } from './harness.js';

const ROWS = 30_000;

describe('HTTP API: large export', () => {
  let h: Harness;
  let admin: string;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  beforeAll(async () => {
    h = await startHarness();
    const batch: ReadingInput[] = [];
    for (let i = 0; i < ROWS; i++) batch.push(h.level(i % 2 ? 'AX' : 'BY', i % 7, -ROWS * 1_000 + i * 1_000));
    // Straight into the store: the rules are not what this test is about.
    h.store.readings.commit(batch, h.now.t);
    admin = await h.login('admin');
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await h?.close();
  });

  it('[export] tens of thousands of rows arrive complete, in lane then time order, without listener leaks', async () => {
    const from = T0 - ROWS * 1_000;
    const r = await h.call<string>('GET', `/api/export.csv?from=${from}&to=${T0}`, { token: admin });
    expect(r.status).toBe(200);
    const rows = parseCsv(r.text).slice(1);
    expect(rows).toHaveLength(ROWS);
    const ax = rows.filter((c) => c[2] === 'A');
    const by = rows.filter((c) => c[2] === 'B');
    expect(ax).toHaveLength(ROWS / 2);
    expect(rows.slice(0, ROWS / 2)).toEqual(ax);
    const ts = ax.map((c) => Number(c[0]));
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(by.at(-1)?.[0]).toBe(String(T0 - 2_000));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('[export] a client that disconnects mid-export leaves the server serving', async () => {
    const ac = new AbortController();
    const res = await fetch(`${h.base}/api/export.csv?from=${T0 - ROWS * 1_000}&to=${T0}`, {
      headers: { Authorization: `Bearer ${admin}` },
      signal: ac.signal,
    });
    const reader = res.body?.getReader();
    await reader?.read();
    ac.abort();
    await reader?.cancel().catch(() => undefined);
    const after = await h.call('GET', '/api/lanes', { token: admin });
    expect(after.status).toBe(200);
  });
});
