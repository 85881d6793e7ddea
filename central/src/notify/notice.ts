/**
 * A notice: one event worth telling people about (a stock-out, a shelf gone offline, a sensor
 * fault, a purchase order out, a delivery that did not match). Parts publish notices to the
 * Notifier; who hears of each follows from its site and supplier (scope.ts) and each user's
 * settings. `key` names the event: publishing a key again notifies no one a second time.
 */
import { Id, NoticeKind } from '@shelfsense/protocol';
import { z } from 'zod';

export { NOTICE_KINDS, NoticeKind } from '@shelfsense/protocol';

const Text = (max: number) => z.string().min(1).max(max);

export const Notice = z.strictObject({
  kind: NoticeKind,
  /** Unique per event (`alert:alr_…`, `po:…:sent`): the same key twice notifies once. */
  key: Text(200),
  site: Id,
  /** The supplier the notice concerns; a supplier's users get only notices naming their supplier. */
  supplier: z.optional(Id),
  shelf: z.optional(Id),
  lane: z.optional(Id),
  /** One line: the e-mail section's title and the chat message's first line. */
  subject: Text(200),
  text: z.string().max(4_000),
  /** When it happened, epoch ms. */
  ts: z.number().int().nonnegative(),
  /** A path in the dashboard (`/operator`), made absolute with `notifications.dashboardUrl`. */
  link: z
    .string()
    .max(500)
    .regex(/^\/[^\s]*$/, 'a path in the dashboard, starting with /')
    .optional(),
});
export type Notice = z.infer<typeof Notice>;
