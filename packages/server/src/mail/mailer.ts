/**
 * The server's outgoing mail. One narrow seam, `Mailer.send`, that the features needing mail (emergency
 * notices first, voicemail and webhooks later) call without knowing SMTP. It never throws for a mail
 * that could not go: it answers a coded result, because a missing e-mail must not break the call or
 * request that wanted to send it. With no `PARLEY_SMTP_URL` the server runs a `NoMailer` that answers
 * `mail_off`, so callers and the admin screens can say so instead of pretending.
 *
 * No durable outbox (yet): a mail is tried now, with bounded retries for passing failures (server down,
 * timeout, 4xx), and the last error is kept for the operator to see. A refused recipient (5xx) is final.
 */
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailAttachment {
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: MailAttachment[];
}

/** `mail_off`: no mailer configured; `mail_refused`: the server said no (5xx); `mail_unreachable`: down, timed out or 4xx after the retries. */
export type MailErrorCode = 'mail_off' | 'mail_refused' | 'mail_unreachable';

export type MailResult =
  | { ok: true; messageId: string; accepted: string[]; attempts: number }
  | { ok: false; code: MailErrorCode; message: string; attempts: number };

export interface MailStatus {
  configured: boolean;
  /** The SMTP server as host:port (never the credentials). */
  server?: string;
  from?: string;
  lastSentAt?: string;
  lastError?: { code: MailErrorCode; message: string; at: string };
}

export interface Mailer {
  send(message: MailMessage): Promise<MailResult>;
  status(): MailStatus;
  close(): void;
}

export class NoMailer implements Mailer {
  async send(_message?: MailMessage): Promise<MailResult> {
    return { ok: false, code: 'mail_off', message: 'mail is off: PARLEY_SMTP_URL is not set', attempts: 0 };
  }
  status(): MailStatus {
    return { configured: false };
  }
  close(): void {}
}

export interface SmtpMailerOptions {
  url: string;
  from: string;
  /** Seconds per attempt. */
  timeout: number;
  retries: number;
  /** Seconds before the first retry (doubled each time); tests make it short. */
  retryDelay?: number;
  /** For tests against a loopback server with a self-signed certificate. */
  tlsRejectUnauthorized?: boolean;
}

interface SmtpFailure {
  responseCode?: number;
  code?: string;
  message?: string;
}

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  private readonly server: string;
  private lastSentAt?: string;
  private lastError?: MailStatus['lastError'];

  constructor(private readonly opts: SmtpMailerOptions) {
    const u = new URL(opts.url);
    const secure = u.protocol === 'smtps:';
    const port = Number(u.port) || (secure ? 465 : 587);
    this.server = `${u.hostname}:${port}`;
    const ms = Math.round(opts.timeout * 1000);
    this.transport = nodemailer.createTransport({
      host: u.hostname,
      port,
      secure,
      auth: u.username
        ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
        : undefined,
      connectionTimeout: ms,
      greetingTimeout: ms,
      socketTimeout: ms,
      tls: { rejectUnauthorized: opts.tlsRejectUnauthorized ?? true },
    });
  }

  async send(message: MailMessage): Promise<MailResult> {
    let delay = (this.opts.retryDelay ?? 1) * 1000;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const info = await this.transport.sendMail({ from: this.opts.from, ...message });
        const accepted = (info.accepted as (string | { address: string })[]).map((a) =>
          typeof a === 'string' ? a : a.address,
        );
        if (accepted.length === 0) {
          return this.fail('mail_refused', `no recipient accepted: ${String(info.response)}`, attempts);
        }
        this.lastSentAt = new Date().toISOString();
        return { ok: true, messageId: info.messageId, accepted, attempts };
      } catch (err) {
        const e = err as SmtpFailure;
        const words = e.message ?? String(err);
        if (e.responseCode !== undefined && e.responseCode >= 500) {
          return this.fail('mail_refused', words, attempts);
        }
        if (attempts > this.opts.retries) return this.fail('mail_unreachable', words, attempts);
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private fail(code: MailErrorCode, message: string, attempts: number): MailResult {
    this.lastError = { code, message, at: new Date().toISOString() };
    return { ok: false, code, message, attempts };
  }

  status(): MailStatus {
    return {
      configured: true,
      server: this.server,
      from: this.opts.from,
      lastSentAt: this.lastSentAt,
      lastError: this.lastError,
    };
  }

  close(): void {
    this.transport.close();
  }
}

/** The mailer the settings ask for: SMTP when `smtpUrl` is set, else one that says mail is off. */
export function createMailer(settings: {
  smtpUrl?: string;
  mailFrom: string;
  mailTimeout: number;
  mailRetries: number;
}): Mailer {
  if (!settings.smtpUrl) return new NoMailer();
  return new SmtpMailer({
    url: settings.smtpUrl,
    from: settings.mailFrom,
    timeout: settings.mailTimeout,
    retries: settings.mailRetries,
  });
}
