/**
 * The mailer on the HTTP API: the operator sees whether mail is configured and its last error, and sends
 * a test mail; a tenant admin sees only whether mail is on (the server's SMTP host is the operator's
 * business), so the admin screen can say when notices by e-mail will not go.
 */
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Mailer } from './mailer.ts';

const MailError = z.object({ code: z.string(), message: z.string(), at: z.string() });
const MailStatus = z.object({
  configured: z.boolean(),
  server: z.string().optional(),
  from: z.string().optional(),
  lastSentAt: z.string().optional(),
  lastError: MailError.optional(),
});
const MailResult = z.object({
  ok: z.boolean(),
  code: z.string().optional(),
  message: z.string().optional(),
  messageId: z.string().optional(),
  attempts: z.number(),
});

export function mailRoutes(mailer: Pick<Mailer, 'send' | 'status'>, audit: AuditLog): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/operator/system/mail',
      tag: 'system',
      summary: 'Whether the server sends mail (PARLEY_SMTP_URL), its SMTP server, last send and last error',
      access: 'operator',
      response: MailStatus,
      handler: async () => mailer.status(),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/system/mail/test',
      tag: 'system',
      summary:
        'Send a test mail; answers the coded result (mail_off, mail_refused, mail_unreachable) rather than failing',
      access: 'operator',
      body: z.object({ to: z.email() }),
      example: { to: 'ops@example.com' },
      response: MailResult,
      handler: async ({ body, actor }) => {
        const r = await mailer.send({
          to: body.to,
          subject: 'Parley test mail',
          text: 'This is a test mail from your Parley server. If you read it, outgoing mail works.',
        });
        await audit.record(actor, {
          tenantId: null,
          action: 'system.mail.test',
          target: body.to,
          detail: r.ok ? { ok: true } : { ok: false, code: r.code },
        });
        return r;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/admin/mail',
      tag: 'system',
      summary: 'Whether the server sends mail (notices by e-mail go only when it does)',
      access: 'admin',
      response: z.object({ configured: z.boolean() }),
      handler: async () => ({ configured: mailer.status().configured }),
    }),
  ];
}
