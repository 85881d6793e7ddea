/**
 * The two ways a message leaves central: e-mail through the configured SMTP relay (nodemailer),
 * and a POST to a chat channel's incoming webhook. Each answers with an outcome rather than a
 * throw: delivered, failed for now (retried), or failed for good (a relay refusing the address).
 */
import { readFileSync } from 'node:fs';
import type { SmtpConfig } from '@shelfsense/protocol';
import nodemailer, { type Transporter } from 'nodemailer';

export type SendOutcome =
  | { ok: true; status?: number }
  | { ok: false; error: string; permanent: boolean; status?: number; retryAfter?: string | undefined };

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<batch@shelfsense>`: the same on every attempt of one digest. */
  messageId: string;
}

export interface MailTransport {
  send(m: MailMessage): Promise<SendOutcome>;
  close(): void;
}

/** The SMTP relay of `notifications.smtp`. One connection per message: digests are few. */
export function smtpTransport(c: SmtpConfig): MailTransport {
  const transporter: Transporter = nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.secure,
    requireTLS: c.requireTls,
    ...(c.user ? { auth: { user: c.user, pass: c.password ?? '' } } : {}),
    ...(c.caFile ? { tls: { ca: readFileSync(c.caFile, 'utf8') } } : {}),
    connectionTimeout: c.timeoutMs,
    greetingTimeout: c.timeoutMs,
    socketTimeout: c.timeoutMs,
  });
  return {
    async send(m) {
      try {
        await transporter.sendMail({
          from: c.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        return { ok: true };
      } catch (err) {
        const e = err as Error & { responseCode?: number };
        // 5xx: the relay refuses for good (no such mailbox, not allowed); 4xx and the rest: try again.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
        return {
          ok: false,
          error: e.message || String(err),
          permanent,
          ...(e.responseCode === undefined ? {} : { status: e.responseCode }),
        };
      }
    },
    close() {
      transporter.close();
    },
  };
}

export interface ChatRequest {
  url: string;
  body: string;
  /** The same on every attempt, so a receiver can drop a repeat. */
  idempotencyKey: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export type ChatTransport = (r: ChatRequest) => Promise<SendOutcome>;

export const postChat: ChatTransport = async (r) => {
  try {
    const res = await fetch(r.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': r.idempotencyKey,
        'User-Agent': 'Shelfsense',
      },
      body: r.body,
      signal: AbortSignal.any([r.signal, AbortSignal.timeout(r.timeoutMs)]),
      redirect: 'error',
    });
    const text = (await res.text().catch(() => '')).slice(0, 200);
    if (res.ok) return { ok: true, status: res.status };
    return {
      ok: false,
      error: `HTTP ${res.status}${text ? `: ${text}` : ''}`,
      permanent: false,
      status: res.status,
      retryAfter: res.headers.get('retry-after') ?? undefined,
    };
  } catch (err) {
    const e = err as Error;
    const error = e.name === 'TimeoutError' ? `no answer within ${r.timeoutMs} ms` : e.message || String(err);
    return { ok: false, error, permanent: false };
  }
};
