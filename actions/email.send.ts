import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import SMTPTransport from 'nodemailer/lib/smtp-transport';
import { z } from 'zod';
import { ActionError, NonRetriableError } from '../src/errors.ts';
import { abortError } from '../src/plugins/abort.ts';
import { defineAction } from '../src/plugins/define-action.ts';

const CONNECT_TIMEOUT_MS = 30_000;
const GREETING_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 60_000;

const addresses = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const input = z
  .strictObject({
    to: addresses.describe('address or list; "Name <a@example.com>" works'),
    cc: addresses.optional(),
    bcc: addresses.optional(),
    from: z.string().min(1),
    subject: z.string(),
    text: z.string().optional(),
    html: z.string().optional(),
    reply_to: z.string().min(1).optional(),
    smtp_url: z
      .string()
      .min(1)
      .optional()
      .describe('overrides the SMTP_URL secret, e.g. ${secrets.OTHER_SMTP}'),
  })
  .refine((value) => value.text !== undefined || value.html !== undefined, {
    path: ['text'],
    message: 'give text, html or both',
  });

const output = z.object({
  message_id: z.string(),
  accepted: z.array(z.string()),
  rejected: z.array(z.string()),
});

/** Everything in an SMTP URL that must never show in an error or log line. */
function secretsOf(smtpUrl: string, url: URL): string[] {
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (!password) return [smtpUrl];
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  // The AUTH PLAIN and AUTH LOGIN forms too, should a server echo them back.
  return [smtpUrl, url.password, password, base64(password), base64(`\0${user}\0${password}`)];
}

function scrubber(secrets: string[]): (text: string) => string {
  const sorted = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((out, secret) => out.split(secret).join('***'), text);
}

interface SmtpFailure {
  message?: string;
  code?: string;
  responseCode?: number;
  command?: string;
}

/** 5xx and bad credentials will fail the same way again; 4xx and connection trouble may not. */
function smtpError(err: unknown, server: string, scrub: (text: string) => string): ActionError {
  const e = (err ?? {}) as SmtpFailure;
  const reason = scrub(e.message ?? String(err));
  const code = e.code;
  const status = e.responseCode;
  const options = {
    cause: Object.assign(new Error(reason), { code, responseCode: status }),
    details: { server, code, response_code: status, command: e.command },
  };
  if (code === 'EAUTH' && !(status && status < 500)) {
    return new NonRetriableError(
      `SMTP ${server}: ${reason} (check the user and password in the SMTP URL)`,
      options,
    );
  }
  if (status && status >= 500) return new NonRetriableError(`SMTP ${server}: ${reason}`, options);
  if (!status && (code === 'EENVELOPE' || code === 'EMESSAGE')) {
    return new NonRetriableError(`SMTP ${server}: ${reason}`, options);
  }
  return new ActionError(`SMTP ${server}: ${reason}`, options);
}

const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

export default defineAction({
  name: 'email.send',
  description:
    'Sends an e-mail over SMTP (secret SMTP_URL, e.g. smtp://user:pass@host:587, or the smtp_url input).',
  input,
  output,
  secrets: ['SMTP_URL'],
  async run(ctx) {
    const { smtp_url: override, reply_to, ...mail } = ctx.input;
    const smtpUrl = override ?? ctx.secrets.SMTP_URL;
    if (!smtpUrl) {
      throw new NonRetriableError(
        'no SMTP server configured: set BATON_SECRET_SMTP_URL (e.g. smtp://user:pass@host:587) or pass smtp_url',
      );
    }
    const url = URL.parse(smtpUrl);
    if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
      // Not echoed: the URL holds the password.
      throw new NonRetriableError(
        'the SMTP URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465',
      );
    }
    const server = `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`;
    const scrub = scrubber(secretsOf(smtpUrl, url));
    if (ctx.signal.aborted) throw abortError(ctx.signal);

    // nodemailer cannot cancel a send, so Baton opens the socket itself and destroys it on abort.
    const sockets = new Set<Socket>();
    const onAbort = () => {
      for (const socket of sockets) socket.destroy(abortError(ctx.signal));
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // Built here, not from createTransport(options): that keeps only what the URL says when given `url`.
    const smtp = new SMTPTransport({
      url: smtpUrl,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      getSocket(options, callback) {
        const port = Number(options.port) || (options.secure ? 465 : 587);
        const socket = connect({ host: options.host ?? 'localhost', port, timeout: CONNECT_TIMEOUT_MS });
        sockets.add(socket);
        const onError = (err: Error) => callback(err, undefined);
        const onTimeout = () =>
          socket.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' }));
        socket.once('error', onError);
        socket.once('timeout', onTimeout);
        socket.once('connect', () => {
          // From here on nodemailer's own handlers and timeouts apply.
          socket.off('error', onError);
          socket.off('timeout', onTimeout);
          socket.setTimeout(0);
          callback(null, { connection: socket }); // and for smtps it upgrades the socket to TLS
        });
      },
    });
    const transport = nodemailer.createTransport(smtp);

    const recipients = list(mail.to).length + list(mail.cc).length + list(mail.bcc).length;
    ctx.log.info(`sending "${mail.subject}" to ${recipients} recipient(s) via ${server}`);
    try {
      // Plain strings only, so nodemailer must never read a file or URL as content.
      const info = await transport.sendMail({
        ...mail,
        replyTo: reply_to,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      const address = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
      const result = {
        message_id: info.messageId,
        accepted: info.accepted.map(address),
        rejected: info.rejected.map(address),
      };
      if (result.rejected.length > 0) ctx.log.warn(`the server rejected ${result.rejected.join(', ')}`);
      ctx.log.info(`sent ${result.message_id}: ${result.accepted.length} accepted`);
      return result;
    } catch (err) {
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      throw smtpError(err, server, scrub);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      for (const socket of sockets) socket.destroy();
      transport.close();
    }
  },
});
