import type { Hook } from '@hono/zod-openapi';
import type { Context, Env, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { coerceError, type ErrorCode } from '../errors.ts';

/** The status each error code answers with. */
export const STATUS_OF_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  spec: 422,
  validation: 422,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  action: 500,
  timeout: 504,
  cancelled: 409,
  internal: 500,
};

/** The one error shape of the API: `{ error: { code, message, details } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown };
}

export function errorBody(code: ErrorCode, message: string, details: unknown = null): ErrorBody {
  return { error: { code, message, details: details ?? null } };
}

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  details: unknown = null,
): Response {
  return c.json(errorBody(code, message, details), status);
}

/** Statuses Hono itself raises (malformed JSON, unsupported media type, body too large, …). */
function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status >= 400 && status < 500) return 'validation';
  return 'internal';
}

/** Hono's own wording is terse; these say what to do. */
function httpMessage(err: HTTPException): string {
  if (err.status === 400 && /json/i.test(err.message)) return 'the request body is not valid JSON';
  if (err.status === 415) {
    return 'unsupported Content-Type; send JSON with "Content-Type: application/json" (or YAML to /api/validate)';
  }
  return err.message || `HTTP ${err.status}`;
}

/**
 * `app.onError` for the API: typed Baton errors keep their code and details; Hono's HTTP errors
 * (malformed JSON 400, 415, 413, a middleware's 401) keep their status; anything else is a 500 that
 * says no more than that (the cause goes to the server log, since it may quote stored data).
 */
export const errorHandler: ErrorHandler = (err, c) => {
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const res = errorResponse(c, status, codeForStatus(status), httpMessage(err));
    const challenge = err.res?.headers.get('www-authenticate');
    if (challenge) res.headers.set('www-authenticate', challenge);
    return res;
  }
  const e = coerceError(err);
  if (e.code === 'internal' || e.code === 'action') {
    console.error(`[api] ${c.req.method} ${c.req.path} failed:`, err);
    return errorResponse(c, 500, 'internal', 'internal server error (details are in the server log)');
  }
  return errorResponse(c, STATUS_OF_CODE[e.code], e.code, e.message, e.details);
};

export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`);

export interface IssueDetail {
  path: string;
  message: string;
  code: string;
}

export function describeIssues(error: z.ZodError): IssueDetail[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  form: 'body',
  query: 'query parameter',
  param: 'path parameter',
  header: 'header',
  cookie: 'cookie',
};

/**
 * zod-openapi's `defaultHook`: a request that fails its route's schemas gets a 422 in the
 * error shape, with every issue (path, message, code) in `details.issues`.
 */
export const validationHook: Hook<unknown, Env, string, Response | undefined> = (result, c) => {
  if (result.success) return undefined;
  const issues = describeIssues(result.error);
  const what = TARGET_NAMES[result.target] ?? result.target;
  const first = issues[0];
  const summary = first
    ? `${first.path ? `${what} "${first.path}"` : what}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`
    : 'invalid request';
  return errorResponse(c, 422, 'validation', `invalid ${summary}`, { target: result.target, issues });
};
