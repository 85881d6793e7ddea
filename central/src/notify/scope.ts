/**
 * Who hears of a notice, as pure functions. A user receives a notice only when its role may see
 * that kind (NOTICE_KINDS_BY_ROLE: suppliers no alerts), the notice lies in its grant — an
 * operator's or technician's sites, a supplier's own supplier (a notice naming no supplier never
 * goes to a supplier) — and its settings ask for the kind and give an address. Checked when the
 * notice is queued and again when it is sent, with the grant and settings of that moment.
 */
import {
  defaultNoticeKindsFor,
  type Grant,
  type NoticeKind,
  noticeKindsFor,
  type QuietHours,
} from '@shelfsense/protocol';
import { z } from 'zod';
import type { NewQueueEntry, NotificationSettingsRow } from '../store/notifications.js';
import type { Notice } from './notice.js';
import { quietUntil } from './quiet.js';

/** A user as the notifier sees it (a UserStore record has these fields). */
export interface Recipient {
  name: string;
  grant: Grant;
  disabled: boolean;
}

/** A user's settings in force: its own, or its role's defaults until it saves some. */
export interface Subscription {
  kinds: NoticeKind[];
  email: string | null;
  digestMinutes: number;
  quietHours: QuietHours | null;
  saved: boolean;
  updatedAt: number | null;
}

/** Does the notice lie in the grant's scope (whatever the user's settings)? */
export function mayReceive(grant: Grant, notice: Pick<Notice, 'kind' | 'site' | 'supplier'>): boolean {
  if (!noticeKindsFor(grant.role).includes(notice.kind)) return false;
  switch (grant.role) {
    case 'admin':
      return true;
    case 'supplier':
      return notice.supplier !== undefined && notice.supplier === grant.supplier;
    case 'operator':
    case 'technician':
      return grant.sites.includes(notice.site);
    default:
      return false;
  }
}

const Email = z.email();

/** A user name that is an e-mail address is the address of a user who has not given one. */
export function emailOfName(name: string): string | null {
  return Email.safeParse(name).success ? name : null;
}

export function subscriptionOf(
  user: Pick<Recipient, 'name' | 'grant'>,
  saved: NotificationSettingsRow | undefined,
  defaultMinutes: number,
): Subscription {
  const available = noticeKindsFor(user.grant.role);
  if (saved) {
    return {
      // A kind the role may no longer get (its grant changed) is not in force.
      kinds: saved.kinds.filter((k) => available.includes(k)),
      email: saved.email,
      digestMinutes: saved.digestMinutes,
      quietHours: saved.quietHours,
      saved: true,
      updatedAt: saved.updatedAt,
    };
  }
  return {
    kinds: [...defaultNoticeKindsFor(user.grant.role)],
    email: emailOfName(user.name),
    digestMinutes: defaultMinutes,
    quietHours: null,
    saved: false,
    updatedAt: null,
  };
}

/** Will this user's settings and grant let the notice through? */
export function wants(user: Recipient, sub: Subscription, notice: Notice): boolean {
  return (
    !user.disabled && sub.email !== null && sub.kinds.includes(notice.kind) && mayReceive(user.grant, notice)
  );
}

/** When a user's e-mail holding a notice queued at `now` may go: after the digest interval, out of quiet hours. */
export function emailDueAt(sub: Pick<Subscription, 'digestMinutes' | 'quietHours'>, now: number): number {
  return quietUntil(now + sub.digestMinutes * 60_000, sub.quietHours);
}

export interface ChatTarget {
  name: string;
  kinds: readonly NoticeKind[];
  sites?: readonly string[] | undefined;
}

export function chatWants(hook: ChatTarget, notice: Pick<Notice, 'kind' | 'site'>): boolean {
  return hook.kinds.includes(notice.kind) && (hook.sites === undefined || hook.sites.includes(notice.site));
}

export interface RecipientsInput {
  users: readonly Recipient[];
  settings: ReadonlyMap<string, NotificationSettingsRow>;
  defaultMinutes: number;
  /** False without an SMTP relay: no e-mail entries. */
  email: boolean;
  chat: readonly ChatTarget[];
}

/** The queue entries a notice published at `now` makes. */
export function recipientsOf(notice: Notice, input: RecipientsInput, now: number): NewQueueEntry[] {
  const out: NewQueueEntry[] = [];
  if (input.email) {
    for (const user of input.users) {
      const sub = subscriptionOf(user, input.settings.get(user.name), input.defaultMinutes);
      if (wants(user, sub, notice))
        out.push({ channel: 'email', recipient: user.name, dueAt: emailDueAt(sub, now) });
    }
  }
  for (const hook of input.chat) {
    if (chatWants(hook, notice)) out.push({ channel: 'chat', recipient: hook.name, dueAt: now });
  }
  return out;
}
