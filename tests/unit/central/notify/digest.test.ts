/**
 * What a digest e-mail and a chat post say: the subject counts the notices, each notice has its
 * own section with its place, time (in the user's zone) and a link into the dashboard, and text
 * from a notice cannot break the HTML or a header.
 */

import { chatBody, type Notice, renderDigest } from '@shelfsense/central/notify';
import { describe, expect, it } from 'vitest';

const T = Date.parse('2026-01-15T21:30:00Z');

const offline: Notice = {
  kind: 'shelf-offline',
  key: 'alert:1',
  site: 'A',
  shelf: 'a1',
  lane: 'l1',
  subject: 'Shelf a1 at A offline (lane l1)',
  text: 'no reading for 2 min',
  ts: T,
  link: '/operator',
};
const po: Notice = {
  kind: 'purchase-order',
  key: 'po:1:sent',
  site: 'A',
  supplier: 'X',
  subject: 'Purchase order PO-7 <sent>\r\nBcc: evil@example.com',
  text: 'line 1\nline 2 & <b>more</b>',
  ts: T + 60_000,
};

describe('digest rendering', () => {
  it('[DIGEST-1] one section per notice; the subject counts them', () => {
    const d = renderDigest({
      user: 'op-a',
      notices: [offline, po],
      dashboardUrl: 'https://shelfsense.example.com/base',
      timeZone: 'Europe/Berlin',
    });
    expect(d.subject).toBe('Shelfsense: 2 notices: Shelf a1 at A offline (lane l1) (+1 more)');
    expect(d.text).toContain('1. Shelf offline: Shelf a1 at A offline (lane l1)');
    expect(d.text).toContain('2. Purchase order: Purchase order PO-7 <sent> Bcc: evil@example.com');
    expect(d.text).toContain('A / a1 / l1');
    expect(d.text).toContain('2026-01-15 22:30 GMT+1');
    expect(d.text).toContain('https://shelfsense.example.com/operator');
    // A notice without a link points at the dashboard.
    expect(d.text).toContain('https://shelfsense.example.com/\n');
    expect(d.html).toContain('<a href="https://shelfsense.example.com/operator">');
    expect(d.html).toContain('line 1<br>line 2 &amp; &lt;b&gt;more&lt;/b&gt;');
    expect(d.html).not.toContain('<b>more');
  });

  it('[DIGEST-2] a subject is one line; no dashboard URL, no links', () => {
    const d = renderDigest({ user: 'sup-x', notices: [po] });
    expect(d.subject).toBe('Shelfsense: 1 notice: Purchase order PO-7 <sent> Bcc: evil@example.com');
    expect(d.subject).not.toMatch(/[\r\n]/);
    expect(d.text).not.toContain('http');
    expect(d.text).toContain('2026-01-15 21:31 UTC');
  });

  it('[DIGEST-3] chat bodies: {text} for Slack-style hooks, the notice for JSON ones', () => {
    const slack = JSON.parse(chatBody('slack', offline, 'https://d.example')) as { text: string };
    expect(slack).toEqual({
      text: 'Shelfsense · Shelf offline: Shelf a1 at A offline (lane l1)\nno reading for 2 min\nhttps://d.example/operator',
    });
    const json = JSON.parse(chatBody('json', offline, 'https://d.example'));
    expect(json).toEqual({ ...offline, url: 'https://d.example/operator' });
    expect(JSON.parse(chatBody('json', offline))).toEqual(offline);
  });
});
