/**
 * Notifications (docs/notifications.md): notices published by the parts, queued per recipient in
 * the central store, sent as e-mail digests and chat webhook posts.
 */

export {
  NOTIFICATION_QUEUE_METRIC,
  NOTIFICATIONS_FAILED_METRIC,
  NOTIFICATIONS_SENT_METRIC,
  type NotifyPartOptions,
  notifyPart,
} from '../parts/notify.js';
export type {
  ClaimedBatch,
  NewQueueEntry,
  NotificationSettingsRow,
  NotificationsRepository,
  NotifyChannel,
  NotifyState,
  QueueEntry,
} from '../store/notifications.js';
export { type AlertLike, AlertWatcher, noticeOfAlert } from './alerts.js';
export { chatBody, type Digest, type DigestInput, formatTime, linkOf, renderDigest } from './digest.js';
export { NOTICE_KINDS, Notice, NoticeKind } from './notice.js';
export { Notifier, type NotifierOptions, type PublishResult, type UserDirectory } from './notifier.js';
export { inQuietHours, quietUntil } from './quiet.js';
export {
  type ChatTarget,
  chatWants,
  emailDueAt,
  emailOfName,
  mayReceive,
  type Recipient,
  type RecipientsInput,
  recipientsOf,
  type Subscription,
  subscriptionOf,
  wants,
} from './scope.js';
export { NotificationSender, type SendEvent, type SenderOptions } from './sender.js';
export {
  type ChatTransport,
  type MailMessage,
  type MailTransport,
  postChat,
  type SendOutcome,
  smtpTransport,
} from './transports.js';
