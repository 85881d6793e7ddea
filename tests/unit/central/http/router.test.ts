/** The API's tiny router: params, percent-decoding, 405 vs 404. */
import { Router } from '@shelfsense/central/testing';
import { describe, expect, it } from 'vitest';

describe('router', () => {
  const r = new Router<string>()
    .add('GET', '/api/lanes', 'list')
    .add('GET', '/api/lanes/:site/:shelf/:lane', 'one')
    .add('GET', '/api/lanes/:site/:shelf/:lane/history', 'history')
    .add('POST', '/api/orders/:id/acknowledge', 'ack');

  it('matches literal segments and captures params, percent-decoded', () => {
    expect(r.match('GET', '/api/lanes')).toMatchObject({ kind: 'found', route: { handler: 'list' } });
    expect(r.match('GET', '/api/lanes/A/a1/l1')).toMatchObject({
      kind: 'found',
      route: { handler: 'one', pattern: '/api/lanes/:site/:shelf/:lane' },
      params: { site: 'A', shelf: 'a1', lane: 'l1' },
    });
    expect(r.match('GET', '/api/lanes/st%C3%B6re/a1/l1/history')).toMatchObject({
      route: { handler: 'history' },
      params: { site: 'störe' },
    });
  });

  it('tells a wrong method (405, with what is allowed) from no route (404)', () => {
    expect(r.match('DELETE', '/api/orders/o1/acknowledge')).toEqual({ kind: 'method', allowed: ['POST'] });
    expect(r.match('GET', '/api/orders/o1/ship')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/api/lanes/A/a1')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/api/lanes/A/a1/l1/history/more')).toEqual({ kind: 'none' });
  });

  it('an empty segment or malformed percent-encoding matches nothing', () => {
    expect(r.match('GET', '/api/lanes/A//l1')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/api/lanes/%E0%A4%A/a1/l1')).toEqual({ kind: 'none' });
  });
});
