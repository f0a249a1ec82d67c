import { ofetch } from 'ofetch';
import { ActionError, BatonError, NonRetriableError } from '../errors.ts';
import { formatDuration } from '../util/duration.ts';
import { abortError } from './abort.ts';
import { assertPublicUrl, type LookupFn } from './net-guard.ts';

/**
 * One guarded HTTP exchange, shared by the actions that call out (http.request, slack.send):
 * every hop is checked by the SSRF guard, so redirects are followed here, not by fetch.
 */

/** The request never got an answer (refused, reset, DNS, timeout): worth another try. */
export class NetworkError extends ActionError {}

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the content type is JSON, else text (truncated with a marker). */
  body: unknown;
  /** The URL that answered, after redirects. */
  url: URL;
}

export interface ExchangeOptions {
  /** BATON_HTTP_ALLOW entries. */
  allow: readonly string[];
  /** ctx.signal: cancel and task timeout. */
  signal: AbortSignal;
  timeoutMs: number;
  followRedirects: boolean;
  /** Text bodies above this are cut; JSON above it is returned as cut text. */
  bodyLimitBytes: number;
  /** How errors name the request. Must not contain secrets. */
  label: string;
  /** The URL is a secret (a webhook): error causes keep only the error code, since fetch's messages name the URL. */
  secretUrl?: boolean;
  lookup?: LookupFn;
}

export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding'];
const JSON_MIME = /^application\/(?:[\w.!#$%&*^`~-]+\+)?json$/;

export async function exchange(request: HttpRequest, options: ExchangeOptions): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  let { method, url, headers, body } = request;
  try {
    for (let hop = 0; ; hop++) {
      await guard(url, options);
      const response = await ofetch.raw(url.href, {
        method,
        headers,
        body,
        signal,
        redirect: 'manual',
        retry: 0,
        ignoreResponseError: true,
        responseType: 'stream',
      });
      const location = response.headers.get('location');
      if (!options.followRedirects || !REDIRECT_STATUSES.has(response.status) || location === null) {
        return await toHttpResponse(response, url, options.bodyLimitBytes);
      }
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new NonRetriableError(`${options.label}: more than ${MAX_REDIRECTS} redirects`, {
          details: { status: response.status },
        });
      }
      const next = URL.parse(location, url.href);
      if (!next) {
        throw new NonRetriableError(`${options.label}: redirect to an invalid Location`, {
          details: { location },
        });
      }
      // What browsers do: credentials stay with their origin; 303 (and 301/302 after POST) become a GET.
      if (next.origin !== url.origin) headers = without(headers, CREDENTIAL_HEADERS);
      const status = response.status;
      if (
        (status === 303 && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
        headers = without(headers, BODY_HEADERS);
      }
      url = next;
    }
  } catch (err) {
    throw failure(err, options, timeout);
  }
}

async function guard(url: URL, options: ExchangeOptions): Promise<void> {
  try {
    await assertPublicUrl(url, { allow: options.allow, lookup: options.lookup });
  } catch (err) {
    // Refusals stay final; a failed DNS lookup is a network problem like any other.
    if (err instanceof NonRetriableError || !(err instanceof ActionError)) throw err;
    throw new NetworkError(`${options.label}: ${err.message}`, { cause: err, details: err.details });
  }
}

function failure(err: unknown, options: ExchangeOptions, timeout: AbortSignal): Error {
  if (err instanceof BatonError) return err;
  if (options.signal.aborted) return abortError(options.signal);
  const root = (err as { cause?: unknown }).cause ?? err;
  const code = (root as { code?: unknown }).code;
  const codeText = typeof code === 'string' ? code : undefined;
  const cause = options.secretUrl
    ? Object.assign(new Error(codeText ?? 'request failed'), { code: codeText })
    : err;
  if (timeout.aborted) {
    return new NetworkError(
      `${options.label}: no response within the ${formatDuration(options.timeoutMs)} timeout`,
      {
        cause,
        details: { timeout_ms: options.timeoutMs },
      },
    );
  }
  const reason = options.secretUrl
    ? (codeText ?? 'request failed')
    : root instanceof Error
      ? root.message
      : String(root);
  return new NetworkError(`${options.label} failed: ${reason}`, { cause, details: { code: codeText } });
}

function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

async function toHttpResponse(response: Response, url: URL, limit: number): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const { bytes, truncated } = await readLimited(response.body, limit);
  return {
    status: response.status,
    headers,
    body: decodeBody(bytes, truncated, headers['content-type'], limit),
    url,
  };
}

/** Reads at most `limit` bytes, then stops the download: a huge body must not fill memory. */
async function readLimited(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!stream) return { bytes: new Uint8Array(), truncated: false };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { bytes: Buffer.concat(chunks).subarray(0, limit), truncated: true };
    }
  }
}

function decodeBody(
  bytes: Uint8Array,
  truncated: boolean,
  contentType: string | undefined,
  limit: number,
): unknown {
  const text = new TextDecoder().decode(bytes);
  if (truncated) return `${text}\n…[truncated: the body is larger than ${limit} bytes]`;
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_MIME.test(mime)) return text;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text; // a server that mislabels its body: keep what it sent
  }
}

/** A short form of a body for error details. */
export function bodyExcerpt(body: unknown, max = 1000): string {
  const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
