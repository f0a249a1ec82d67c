import { z } from 'zod';
import { NonRetriableError } from '../src/errors.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { exchange, type HttpRequest } from '../src/plugins/http-client.ts';
import { statusError, withRetries } from '../src/plugins/http-retry.ts';
import { parseDuration } from '../src/util/duration.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const params = z.record(z.string(), z.union([scalar, z.array(scalar)]));
// Plain (no transform) so the catalogue can publish the input as JSON Schema.
const duration = z
  .union([z.string(), z.number()])
  .refine((value) => parseDuration(value) !== undefined, 'not a duration; write e.g. 500ms, 30s or 5m');

const BODY_FIELDS = ['json', 'text', 'form'] as const;

const input = z
  .strictObject({
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
    url: z.string().min(1).describe('http or https URL; private addresses need BATON_HTTP_ALLOW'),
    query: params.optional().describe('added to the URL query; a list repeats the parameter'),
    headers: z.record(z.string(), z.string()).optional(),
    json: z.unknown().optional().describe('body sent as JSON'),
    text: z.string().optional().describe('body sent as text/plain'),
    form: params.optional().describe('body sent as application/x-www-form-urlencoded'),
    timeout: duration.default('30s').describe('per attempt, e.g. 10s'),
    retries: z.int().min(0).max(10).default(2).describe('extra attempts on network errors, 408, 429 and 5xx'),
    fail_on_status: z.boolean().default(true).describe('a final 4xx/5xx fails the task'),
    follow_redirects: z.boolean().default(true).describe('up to 5 hops, each checked like the first'),
  })
  .superRefine((value, ctx) => {
    const bodies = BODY_FIELDS.filter((field) => value[field] !== undefined);
    if (bodies.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [bodies[1] as string],
        message: `give one body, not ${bodies.join(' and ')}`,
      });
    }
    if (bodies.length > 0 && (value.method === 'GET' || value.method === 'HEAD')) {
      ctx.addIssue({
        code: 'custom',
        path: ['method'],
        message: `a ${value.method} request has no body; use POST, PUT, PATCH or DELETE with ${bodies[0]}`,
      });
    }
  });

const output = z.object({
  status: z.int(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown(),
});

type Input = z.output<typeof input>;

function buildRequest(value: Input): HttpRequest {
  const url = URL.parse(value.url);
  if (!url) throw new NonRetriableError('"url" is not a valid absolute URL', { details: { field: 'url' } });
  for (const [name, param] of Object.entries(value.query ?? {})) {
    for (const item of Array.isArray(param) ? param : [param]) url.searchParams.append(name, String(item));
  }
  const headers: Record<string, string> = { ...value.headers };
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  const encode = (text: string, contentType: string) => {
    if (!hasContentType) headers['content-type'] = contentType;
    return new TextEncoder().encode(text);
  };
  let body: Uint8Array | undefined;
  if (value.json !== undefined) body = encode(JSON.stringify(value.json), 'application/json');
  else if (value.text !== undefined) body = encode(value.text, 'text/plain; charset=utf-8');
  else if (value.form !== undefined) {
    const form = new URLSearchParams();
    for (const [name, param] of Object.entries(value.form)) {
      for (const item of Array.isArray(param) ? param : [param]) form.append(name, String(item));
    }
    body = encode(form.toString(), 'application/x-www-form-urlencoded');
  }
  return { method: value.method, url, headers, body };
}

export default defineAction({
  name: 'http.request',
  description:
    'Sends an HTTP request and returns status, headers and body (JSON parsed). Retries network errors, ' +
    '429 and 5xx; refuses private addresses unless allow-listed in BATON_HTTP_ALLOW.',
  input,
  output,
  async run(ctx) {
    const request = buildRequest(ctx.input);
    // The query is left out of messages and logs: it often carries tokens.
    const label = `${request.method} ${request.url.origin}${request.url.pathname}`;
    const started = Date.now();
    const response = await withRetries(
      () =>
        exchange(request, {
          allow: ctx.env.httpAllow,
          signal: ctx.signal,
          timeoutMs: parseDuration(ctx.input.timeout) ?? 30_000,
          followRedirects: ctx.input.follow_redirects,
          bodyLimitBytes: ctx.env.outputLimitBytes,
          label,
        }),
      { retries: ctx.input.retries, signal: ctx.signal, log: ctx.log, label },
    );
    ctx.log.info(`${label} → ${response.status} in ${Date.now() - started}ms`);
    if (ctx.input.fail_on_status && response.status >= 400) throw statusError(response, label);
    return { status: response.status, headers: response.headers, body: response.body };
  },
});
