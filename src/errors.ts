/** Every error Baton raises carries one of these codes; the API and CLI map codes, never classes. */
export type ErrorCode =
  | 'spec'
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'action'
  | 'timeout'
  | 'cancelled'
  | 'internal';

export interface ErrorOptions {
  cause?: unknown;
  details?: unknown;
}

export class BatonError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

/** One problem found in a workflow file, positioned for editors and PR annotations. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
  /** Dotted path into the document, e.g. `tasks.notify.depends_on[0]`. */
  path?: string;
}

export class SpecError extends BatonError {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[], options: ErrorOptions = {}) {
    super('spec', message, { ...options, details: options.details ?? { problems } });
    this.problems = problems;
  }
}

export class ValidationError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('validation', message, options);
  }
}

export class NotFoundError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('not_found', message, options);
  }
}

export class ConflictError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('conflict', message, options);
  }
}

export class UnauthorizedError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('unauthorized', message, options);
  }
}

/** A template could not be rendered: bad syntax, or data missing at run time. */
export class TemplateError extends BatonError {
  readonly field: string;
  readonly expression: string;
  constructor(message: string, info: { field: string; expression: string; cause?: unknown }) {
    super('validation', message, {
      cause: info.cause,
      details: { field: info.field, expression: info.expression },
    });
    this.field = info.field;
    this.expression = info.expression;
  }
}

/** A task's action failed. Retried according to the task's retry policy. */
export class ActionError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('action', message, options);
  }
}

/** An action throws this when retrying cannot help (bad credentials, 4xx, invalid data). */
export class NonRetriableError extends ActionError {}

/** An action throws this to ask for the next attempt no sooner than `retryAfterMs`. */
export class RetryAfterError extends ActionError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: ErrorOptions = {}) {
    super(message, options);
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}

export class TimeoutError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('timeout', message, options);
  }
}

export class CancelledError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('cancelled', message, options);
  }
}

/** Turns anything thrown into a BatonError, keeping the original as `cause`. */
export function coerceError(err: unknown, fallback: ErrorCode = 'internal'): BatonError {
  if (err instanceof BatonError) return err;
  if (err instanceof Error) {
    if (err.name === 'AbortError') return new CancelledError(err.message || 'aborted', { cause: err });
    return new BatonError(fallback, err.message || err.name, { cause: err });
  }
  return new BatonError(fallback, typeof err === 'string' ? err : safeJson(err));
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: unknown;
  cause?: string;
}

/** A JSON-safe form for storage, events and API answers. Never includes stacks. */
export function serializeError(err: unknown): SerializedError {
  const e = coerceError(err);
  const out: SerializedError = { code: e.code, message: e.message };
  if (e.details !== undefined) out.details = e.details;
  if (e.cause instanceof Error && e.cause.message !== e.message) out.cause = e.cause.message;
  return out;
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof NonRetriableError) return false;
  if (err instanceof BatonError)
    return err.code === 'action' || err.code === 'internal' || err.code === 'timeout';
  return true;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
