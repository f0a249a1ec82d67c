import { ActionError, NonRetriableError, RetryAfterError } from '../errors.ts';
import type { ActionContext } from './define-action.ts';
import { bodyExcerpt } from './http-client.ts';

export interface GithubResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Response headers worth keeping in a task's output (no cookies, nothing about the token). */
const KEPT_HEADERS = [
  'content-type',
  'etag',
  'link',
  'location',
  'x-github-request-id',
  'x-ratelimit-remaining',
];
const API_VERSION = '2022-11-28';

/**
 * One call to the API of `connection` (GitHub, or anything GitHub-like behind a provider's
 * api_url). Baton adds and refreshes the token; errors name the call and GitHub's message.
 */
export async function githubCall(
  ctx: ActionContext<unknown>,
  connection: string,
  request: { method: string; path: string; query?: Record<string, string>; body?: unknown },
  options: { failOnStatus?: boolean } = {},
): Promise<GithubResponse> {
  const query =
    request.query && Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query)}` : '';
  const label = `${request.method} ${request.path} (connection ${connection})`;
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': API_VERSION,
    'user-agent': 'baton',
  };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const response = await ctx.connections.fetch(connection, `${request.path}${query}`, {
    method: request.method,
    headers,
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    signal: ctx.signal,
  });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
  }
  const kept = Object.fromEntries(
    KEPT_HEADERS.flatMap((name) => {
      const value = response.headers.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  const result = { status: response.status, headers: kept, body };
  if (response.status < 400 || options.failOnStatus === false) return result;
  const message =
    body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : bodyExcerpt(body, 300);
  const error = `${label} answered ${response.status}: ${message}`;
  const details = { status: response.status, body: bodyExcerpt(body, 1000) };
  const retryAfter = Number(response.headers.get('retry-after'));
  if (
    response.status === 429 ||
    (response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0')
  ) {
    throw new RetryAfterError(
      error,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 60_000,
      {
        details,
      },
    );
  }
  if (response.status >= 500) throw new ActionError(error, { details });
  throw new NonRetriableError(error, { details });
}

/** `owner/repo` path segments, encoded. */
export const repoPath = (owner: string, repo: string) =>
  `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
