import type { Context, MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { Logger } from '../log.ts';

export type RequestLogVariables = RequestIdVariables & {
  /** This request's logger (carries `reqId`); handlers add `.child({ runId })`. */
  log: Logger;
  /** Set by a handler that created or touched a run, so the access line names it. */
  runId?: string;
};

export interface RequestLogOptions {
  logger: Logger;
}

/**
 * Request ids and access logs. Takes an incoming `X-Request-Id` when it is a sane token (at most
 * 128 of `A-Za-z0-9_-=`), else makes a UUID; echoes it in the response. Logs one JSON line per
 * request after it ends: method, path (never the query string, which may carry secrets), status,
 * duration and request id. Headers and bodies are never logged.
 */
export function requestLog({
  logger,
}: RequestLogOptions): MiddlewareHandler<{ Variables: RequestLogVariables }> {
  return async function requestLog(c, next) {
    const started = performance.now();
    // The request id, as hono's requestId middleware makes it, without a middleware layer of its own.
    let id = c.req.header('X-Request-Id');
    if (!id || id.length > 128 || /[^\w\-=]/.test(id)) id = crypto.randomUUID();
    c.set('requestId', id);
    const log = lazyChild(logger, () => ({ reqId: c.get('requestId') }));
    c.set('log', log);
    let failed = false;
    try {
      await next();
      // Set on the answer once it exists: set before, hono keeps a Headers object per request for it.
      setHeader(c, 'X-Request-Id', id);
    } catch (err) {
      failed = true;
      c.header('X-Request-Id', id);
      throw err;
    } finally {
      const status = failed ? 500 : c.res.status;
      const runId = c.get('runId');
      const line = {
        method: c.req.method,
        path: c.req.path,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(runId ? { runId } : {}),
      };
      if (status >= 500) log.error(line, 'request failed');
      else if (logger.isLevelEnabled('info')) log.info(line, 'request');
    }
  };
}

/** Sets a header on the answer in place; one with immutable headers is copied (what c.header does). */
function setHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

/**
 * A child logger made on first use: pino's child() copies the bindings and the redaction setup,
 * which cost more than the rest of a webhook's middleware when the level drops the access line.
 */
function lazyChild(logger: Logger, bindings: () => Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(logger, {
    get(_target, prop) {
      child ??= logger.child(bindings());
      const value = Reflect.get(child, prop, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}
