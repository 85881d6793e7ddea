/**
 * A user's notification settings (docs/notifications.md): `GET`/`PUT /api/me/notifications`, the
 * form as typed and the body it makes, checked with the contract's own schema so the form names
 * the field the API would. No DOM.
 */
import {
  NOTICE_KINDS,
  type NoticeKind,
  NotificationSettings,
  NotificationSettingsBody,
} from '@shelfsense/protocol';
import type { Api } from './api.js';
import { type Checked, checkBody } from './catalogue.js';

export const loadNotifications = (api: Api) =>
  api.request('GET', '/api/me/notifications', NotificationSettings);

export const saveNotifications = (api: Api, body: NotificationSettingsBody) =>
  api.request('PUT', '/api/me/notifications', NotificationSettings, body);

export const KIND_LABELS: Readonly<Record<NoticeKind, string>> = {
  'stock-out': 'Stock-outs',
  'shelf-offline': 'Shelves offline',
  'sensor-fault': 'Sensor faults',
  'purchase-order': 'Purchase orders',
  discrepancy: 'Delivery discrepancies',
  'shelf-object': 'Objects left or put back on the wrong lane',
  tamper: 'Possible tampering',
  'unit-weight': 'Unit weights to check',
};

/** Words for each body field, as the form labels it. */
export const NOTIFICATION_FIELDS: Readonly<Record<string, string>> = {
  kinds: 'Notices',
  email: 'E-mail address',
  digestMinutes: 'Digest interval',
  quietHours: 'Quiet hours',
  'quietHours.from': 'Quiet from',
  'quietHours.to': 'Quiet until',
  'quietHours.timeZone': 'Time zone',
};

export const notificationField = (path: string): string =>
  NOTIFICATION_FIELDS[path] ?? NOTIFICATION_FIELDS[path.split('.')[0] ?? ''] ?? (path || 'The request');

/** The form as typed. */
export interface NotificationsForm {
  kinds: NoticeKind[];
  email: string;
  digestMinutes: string;
  quiet: boolean;
  from: string;
  to: string;
  timeZone: string;
}

/** The browser's own time zone, for quiet hours not chosen yet. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function formOf(s: NotificationSettings, zone = browserTimeZone()): NotificationsForm {
  return {
    kinds: [...s.kinds],
    email: s.email ?? '',
    digestMinutes: String(s.digestMinutes),
    quiet: s.quietHours !== null,
    from: s.quietHours?.from ?? '22:00',
    to: s.quietHours?.to ?? '07:00',
    timeZone: s.quietHours?.timeZone ?? zone,
  };
}

/** Adds or removes a kind, keeping the contract's order. */
export function toggleKind(kinds: readonly NoticeKind[], kind: NoticeKind, on: boolean): NoticeKind[] {
  const set = new Set(kinds);
  if (on) set.add(kind);
  else set.delete(kind);
  return NOTICE_KINDS.filter((k) => set.has(k));
}

/** The request body of the form, or the errors by field path. */
export function bodyOf(f: NotificationsForm): Checked<NotificationSettingsBody> {
  const email = f.email.trim();
  const minutes = f.digestMinutes.trim();
  return checkBody(NotificationSettingsBody, {
    kinds: f.kinds,
    email: email === '' ? null : email,
    digestMinutes: minutes === '' ? 0 : /^-?\d+$/.test(minutes) ? Number(minutes) : minutes,
    quietHours: f.quiet ? { from: f.from.trim(), to: f.to.trim(), timeZone: f.timeZone.trim() } : null,
  });
}

/** The IANA zones the browser knows, for the time zone field's suggestions. */
export function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
}
