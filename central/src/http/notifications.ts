/**
 * A user's own notification settings (docs/notifications.md): `GET /api/me/notifications` — the
 * settings in force (the role's defaults until saved) and the kinds the role may receive — and
 * `PUT /api/me/notifications` to replace them. Every signed-in user may use them, for itself only;
 * a kind its role may not receive is a 400 naming it. Each change goes to the audit trail.
 */
import {
  type NotificationSettings,
  NotificationSettingsBody,
  type NotificationsConfig,
  noticeKindsFor,
} from '@shelfsense/protocol';
import { subscriptionOf } from '../notify/scope.js';
import type { NotificationSettingsRow } from '../store/notifications.js';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { invalid } from './errors.js';
import { readJson } from './io.js';
import type { Principal } from './scope.js';

/** The notifications config in force (the live catalogue's config carries the process settings). */
function configOf(ctx: RequestContext): NotificationsConfig | undefined {
  const c = ctx.deps.catalogue?.config().notifications;
  return c?.enabled ? c : undefined;
}

function view(
  ctx: RequestContext,
  p: Principal,
  saved: NotificationSettingsRow | undefined,
): NotificationSettings {
  const config = configOf(ctx);
  const sub = subscriptionOf({ name: p.user, grant: p.grant }, saved, config?.digest.defaultMinutes ?? 0);
  return {
    kinds: sub.kinds,
    email: sub.email,
    digestMinutes: sub.digestMinutes,
    quietHours: sub.quietHours,
    saved: sub.saved,
    updatedAt: sub.updatedAt,
    available: [...noticeKindsFor(p.grant.role)],
    emailEnabled: config?.smtp !== undefined,
  };
}

const audited = ({ kinds, email, digestMinutes, quietHours }: NotificationSettingsRow) => ({
  kinds,
  email,
  digestMinutes,
  quietHours,
});

export function notificationRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/me/notifications', async (ctx, p) =>
    view(ctx, p, ctx.deps.store.notifications.settings(p.user)),
  );

  authed(router, 'PUT', '/api/me/notifications', async (ctx, p) => {
    const body = await readJson(ctx.req, NotificationSettingsBody);
    const available = noticeKindsFor(p.grant.role);
    const refused = body.kinds.flatMap((kind, i) =>
      available.includes(kind)
        ? []
        : [{ path: `kinds.${i}`, message: `the ${p.grant.role} role does not receive ${kind} notices` }],
    );
    if (refused.length) throw invalid('body', refused);
    const repo = ctx.deps.store.notifications;
    const row: NotificationSettingsRow = {
      user: p.user,
      kinds: body.kinds,
      email: body.email,
      digestMinutes: body.digestMinutes ?? configOf(ctx)?.digest.defaultMinutes ?? 0,
      quietHours: body.quietHours ?? null,
      updatedAt: ctx.now(),
    };
    const store = ctx.deps.store;
    store.transaction(() => {
      const was = repo.settings(p.user);
      repo.saveSettings(row);
      store.audit.append({
        at: row.updatedAt,
        actor: p.user,
        role: p.grant.role,
        action: 'notifications.changed',
        target: 'user',
        targetId: p.user,
        before: was ? audited(was) : null,
        after: audited(row),
      });
    });
    ctx.log.debug({ user: p.user, kinds: row.kinds }, 'notification settings saved');
    return view(ctx, p, row);
  });
}
