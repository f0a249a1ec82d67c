import { z } from 'zod';
import { NonRetriableError } from '../src/errors.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { exchange } from '../src/plugins/http-client.ts';
import { statusError } from '../src/plugins/http-retry.ts';

const TIMEOUT_MS = 15_000;
const BODY_LIMIT_BYTES = 16 * 1024; // Slack answers "ok" or a short error code

const input = z
  .strictObject({
    text: z
      .string()
      .min(1)
      .optional()
      .describe('message text (mrkdwn); the notification text when blocks are given'),
    blocks: z.array(z.record(z.string(), z.unknown())).min(1).optional().describe('Block Kit blocks'),
    username: z.string().min(1).optional(),
    icon_emoji: z.string().min(1).optional(),
    channel: z.string().min(1).optional(),
    webhook_url: z
      .string()
      .min(1)
      .optional()
      .describe('overrides the SLACK_WEBHOOK_URL secret, e.g. ${secrets.OTHER_HOOK}'),
  })
  .refine((value) => value.text !== undefined || value.blocks !== undefined, {
    path: ['text'],
    message: 'give text, blocks or both',
  });

const output = z.object({ ok: z.literal(true), status: z.int() });

export default defineAction({
  name: 'slack.send',
  description:
    'Posts a message to a Slack incoming webhook (secret SLACK_WEBHOOK_URL, or the webhook_url input).',
  input,
  output,
  secrets: ['SLACK_WEBHOOK_URL'],
  async run(ctx) {
    // The webhook URL is a credential: messages name only its host, never the URL.
    const { webhook_url: override, ...message } = ctx.input;
    const hook = override ?? ctx.secrets.SLACK_WEBHOOK_URL;
    if (!hook) {
      throw new NonRetriableError(
        'no Slack webhook configured: set BATON_SECRET_SLACK_WEBHOOK_URL, or pass webhook_url (e.g. ${secrets.OTHER_HOOK})',
      );
    }
    const url = URL.parse(hook);
    if (!url) throw new NonRetriableError('the Slack webhook URL is not a valid URL');
    const label = `POST Slack webhook (${url.host})`;
    const response = await exchange(
      {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        body: new TextEncoder().encode(JSON.stringify(message)),
      },
      {
        allow: ctx.env.httpAllow,
        signal: ctx.signal,
        timeoutMs: TIMEOUT_MS,
        followRedirects: false,
        bodyLimitBytes: BODY_LIMIT_BYTES,
        label,
        secretUrl: true,
      },
    );
    if (response.status >= 300 && response.status < 400) {
      throw new NonRetriableError(
        `${label} answered ${response.status} (a redirect); check the webhook URL`,
        {
          details: { status: response.status },
        },
      );
    }
    if (response.status >= 400) throw statusError(response, label);
    ctx.log.info(`posted to Slack (${url.host}) → ${response.status}`);
    return { ok: true as const, status: response.status };
  },
});
