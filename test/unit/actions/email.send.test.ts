import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import action from '../../../actions/email.send.ts';
import { ActionError, BatonError, NonRetriableError, serializeError } from '../../../src/errors.ts';
import { callAction } from '../../helpers/action-context.ts';
import { waitFor } from '../../helpers/wait-for.ts';

interface Delivered {
  from: string;
  to: string[];
  raw: string;
}

interface TestSmtp {
  port: number;
  url: (auth?: string) => string;
  delivered: Delivered[];
  started: number;
}

const PASSWORD = 'hunter2-Sup3r-S3cret';
const servers: SMTPServer[] = [];

/** A real SMTP server on 127.0.0.1 that keeps what it receives. */
async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<TestSmtp> {
  const state: TestSmtp = { port: 0, url: () => '', delivered: [], started: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      state.started++;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.delivered.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
    ...options,
  });
  server.on('error', () => {}); // a client hanging up mid-TLS is expected in some tests
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.url = (auth = '') => `smtp://${auth}127.0.0.1:${state.port}`;
  return state;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function failure(promise: Promise<unknown>): Promise<BatonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BatonError)) throw new Error(`expected a BatonError, got ${String(err)}`);
  return err;
}

const message = {
  from: 'Baton <baton@example.test>',
  to: 'ada@example.test',
  subject: 'Build green',
  text: 'All good.',
};

describe('email.send', () => {
  it('delivers to every recipient with subject and body', async () => {
    const smtp = await startSmtp();
    const { output, lines } = await callAction(
      action,
      {
        from: 'Baton <baton@example.test>',
        to: ['ada@example.test', 'Grace <grace@example.test>'],
        cc: 'cc@example.test',
        bcc: ['hidden@example.test'],
        reply_to: 'replies@example.test',
        subject: 'Build #42 passed',
        text: 'All checks green.',
        html: '<p>All checks <b>green</b>.</p>',
      },
      { secrets: { SMTP_URL: smtp.url() } },
    );
    expect(output.message_id).toMatch(/@/);
    expect(output.accepted).toEqual([
      'ada@example.test',
      'grace@example.test',
      'cc@example.test',
      'hidden@example.test',
    ]);
    expect(output.rejected).toEqual([]);
    const [mail] = smtp.delivered;
    expect(mail?.from).toBe('baton@example.test');
    expect(mail?.to).toEqual(output.accepted);
    expect(mail?.raw).toContain('Subject: Build #42 passed');
    expect(mail?.raw).toContain('All checks green.');
    expect(mail?.raw).toContain('<b>green</b>');
    expect(mail?.raw).toContain('Reply-To: replies@example.test');
    expect(mail?.raw).not.toContain('hidden@example.test'); // bcc stays out of the headers
    expect(lines.some((l) => l.message.includes('127.0.0.1'))).toBe(true);
  });

  it('speaks implicit TLS for smtps:// and verifies the certificate unless told not to', async () => {
    const smtp = await startSmtp({ secure: true }); // smtp-server's built-in self-signed certificate
    const insecure = `smtps://127.0.0.1:${smtp.port}?tls.rejectUnauthorized=false`;
    const { output } = await callAction(action, message, { secrets: { SMTP_URL: insecure } });
    expect(output.accepted).toEqual(['ada@example.test']);
    expect(smtp.delivered).toHaveLength(1);
    const err = await failure(
      callAction(action, message, { secrets: { SMTP_URL: `smtps://127.0.0.1:${smtp.port}` } }),
    );
    expect(err.message).toMatch(/certificate/);
    expect(smtp.delivered).toHaveLength(1);
  });

  it('prefers the smtp_url input over the secret', async () => {
    const smtp = await startSmtp();
    await callAction(
      action,
      { ...message, smtp_url: smtp.url() },
      { secrets: { SMTP_URL: 'smtp://127.0.0.1:1' } },
    );
    expect(smtp.delivered).toHaveLength(1);
  });

  it('validates the input', () => {
    expect(() => action.input.parse({ ...message, text: undefined })).toThrow(/text, html or both/);
    expect(() => action.input.parse({ ...message, from: undefined })).toThrow();
    expect(() => action.input.parse({ ...message, to: [] })).toThrow();
  });

  it('tells the user which secret to set when no server is configured', async () => {
    const err = await failure(callAction(action, message));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain('BATON_SECRET_SMTP_URL');
  });

  it('refuses a URL that is not smtp(s) without echoing it', async () => {
    const err = await failure(
      callAction(action, message, { secrets: { SMTP_URL: `http://u:${PASSWORD}@h/` } }),
    );
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(JSON.stringify(serializeError(err))).not.toContain(PASSWORD);
  });

  it('fails permanently when the server rejects every recipient with 550', async () => {
    const smtp = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
      },
    });
    const err = await failure(callAction(action, message, { secrets: { SMTP_URL: smtp.url() } }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.details).toMatchObject({ response_code: 550, code: 'EENVELOPE' });
    expect(smtp.delivered).toHaveLength(0);
  });

  it('fails retriably on a temporary 4xx rejection', async () => {
    const smtp = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 450 }));
      },
    });
    const err = await failure(callAction(action, message, { secrets: { SMTP_URL: smtp.url() } }));
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
  });

  describe('with authentication', () => {
    const authOptions: Partial<SMTPServerOptions> = {
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'baton' && auth.password === PASSWORD) return callback(null, { user: 'baton' });
        callback(new Error('Invalid username or password'));
      },
    };

    it('logs in with the credentials from the URL', async () => {
      const smtp = await startSmtp(authOptions);
      const { lines } = await callAction(action, message, {
        secrets: { SMTP_URL: smtp.url(`baton:${encodeURIComponent(PASSWORD)}@`) },
      });
      expect(smtp.delivered).toHaveLength(1);
      for (const line of lines) expect(line.message).not.toContain(PASSWORD);
    });

    it('fails a wrong password permanently, without the password anywhere in the error', async () => {
      const smtp = await startSmtp(authOptions);
      const wrong = `${PASSWORD}-wrong`;
      const err = await failure(
        callAction(action, message, { secrets: { SMTP_URL: smtp.url(`baton:${wrong}@`) } }),
      );
      expect(err).toBeInstanceOf(NonRetriableError);
      expect(err.message).toMatch(/535|auth|login/i);
      const shown = [
        err.message,
        JSON.stringify(serializeError(err)),
        (err.cause as Error).message,
        JSON.stringify(err.details),
      ];
      for (const text of shown) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(Buffer.from(`\0baton\0${wrong}`).toString('base64'));
      }
    });
  });

  it('fails retriably when nothing listens, without the password', async () => {
    const smtp = await startSmtp();
    const url = smtp.url(`baton:${PASSWORD}@`);
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    const err = await failure(callAction(action, message, { secrets: { SMTP_URL: url } }));
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expect(JSON.stringify(serializeError(err))).not.toContain(PASSWORD);
  });

  it('closes the connection and stops when the task is cancelled', async () => {
    const smtp = await startSmtp({
      onData(stream, _session, _callback) {
        smtp.started++;
        stream.resume(); // swallow the message and never answer
      },
    });
    const controller = new AbortController();
    const pending = failure(
      callAction(action, message, { secrets: { SMTP_URL: smtp.url() }, signal: controller.signal }),
    );
    await waitFor(() => smtp.started === 1);
    const started = performance.now();
    controller.abort();
    const err = await pending;
    expect(err.code).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
