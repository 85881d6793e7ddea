/**
 * What a message says, as pure functions: a user's digest e-mail (a subject with the count, one
 * section per notice, links into the dashboard) as text and HTML, and a chat webhook's body.
 */
import { DateTime } from 'luxon';
import type { Notice } from './notice.js';

export interface Digest {
  subject: string;
  text: string;
  html: string;
}

export interface DigestInput {
  user: string;
  notices: readonly Notice[];
  /** `notifications.dashboardUrl`: links become absolute; without it there are none. */
  dashboardUrl?: string | undefined;
  /** Times are shown in it (the user's quiet-hours zone, else UTC). */
  timeZone?: string | undefined;
}

const KIND_TITLES: Readonly<Record<Notice['kind'], string>> = {
  'stock-out': 'Stock-out',
  'shelf-offline': 'Shelf offline',
  'sensor-fault': 'Sensor fault',
  'purchase-order': 'Purchase order',
  discrepancy: 'Discrepancy',
  'shelf-object': 'Object on a lane',
  tamper: 'Possible tampering',
  'unit-weight': 'Unit weight',
};

export const kindTitle = (kind: Notice['kind']): string => KIND_TITLES[kind];

/** The dashboard URL of a notice's link (or of the dashboard), or null without a dashboard URL. */
export function linkOf(dashboardUrl: string | undefined, path = '/'): string | null {
  if (!dashboardUrl) return null;
  try {
    return new URL(path, dashboardUrl.endsWith('/') ? dashboardUrl : `${dashboardUrl}/`).toString();
  } catch {
    return null;
  }
}

export function formatTime(ts: number, timeZone = 'UTC'): string {
  const t = DateTime.fromMillis(ts, { zone: timeZone });
  return (t.isValid ? t : DateTime.fromMillis(ts, { zone: 'UTC' })).toFormat('yyyy-LL-dd HH:mm ZZZZ');
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** A header line holds no line breaks, whatever a notice's subject holds. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function where(n: Notice): string {
  return [n.site, n.shelf, n.lane].filter((x) => x !== undefined).join(' / ');
}

export function renderDigest(input: DigestInput): Digest {
  const { notices } = input;
  const first = notices[0];
  const count = plural(notices.length, 'notice');
  const subject = oneLine(
    first
      ? `Shelfsense: ${count}: ${first.subject}${notices.length > 1 ? ` (+${notices.length - 1} more)` : ''}`
      : `Shelfsense: ${count}`,
  ).slice(0, 250);
  const tz = input.timeZone ?? 'UTC';
  const text: string[] = [`${count} for ${input.user}`, ''];
  const html: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p>${escapeHtml(`${count} for ${input.user}`)}</p>`,
  ];
  notices.forEach((n, i) => {
    const url = linkOf(input.dashboardUrl, n.link ?? '/');
    const head = `${i + 1}. ${kindTitle(n.kind)}: ${oneLine(n.subject)}`;
    text.push(
      head,
      `   ${where(n)}${n.supplier ? ` · supplier ${n.supplier}` : ''}`,
      `   ${formatTime(n.ts, tz)}`,
    );
    if (n.text) text.push('', ...n.text.split(/\r?\n/).map((l) => `   ${l}`));
    if (url) text.push(`   ${url}`);
    text.push('');
    html.push(
      `<h3>${escapeHtml(head)}</h3>`,
      `<p>${escapeHtml(where(n))}${n.supplier ? ` · supplier ${escapeHtml(n.supplier)}` : ''}<br>${escapeHtml(formatTime(n.ts, tz))}</p>`,
    );
    if (n.text) html.push(`<p>${escapeHtml(n.text).replace(/\r?\n/g, '<br>')}</p>`);
    if (url) html.push(`<p><a href="${escapeHtml(url)}">Open in the dashboard</a></p>`);
  });
  const settings = linkOf(input.dashboardUrl);
  const footer = `You receive these by your notification settings${settings ? `: ${settings}` : ' in the Shelfsense dashboard'} (Notifications).`;
  text.push('-- ', footer);
  html.push(`<hr><p style="color:#666">${escapeHtml(footer)}</p></body></html>`);
  return { subject, text: text.join('\n'), html: html.join('\n') };
}

/** A chat webhook's body: `{text}` (Slack, Mattermost, Teams) or the notice with its absolute URL. */
export function chatBody(format: 'slack' | 'json', n: Notice, dashboardUrl?: string): string {
  const url = linkOf(dashboardUrl, n.link ?? '/');
  if (format === 'json') return JSON.stringify({ ...n, ...(url ? { url } : {}) });
  const lines = [`Shelfsense · ${kindTitle(n.kind)}: ${oneLine(n.subject)}`];
  if (n.text) lines.push(n.text);
  if (url) lines.push(url);
  return JSON.stringify({ text: lines.join('\n') });
}
