import type { z } from 'zod';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Per-task log lines; they become `task.log` events (stored, printed, shown on pages). */
export interface TaskLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A line of a child process's output. */
  line(stream: 'stdout' | 'stderr', message: string): void;
}

/** The parts of Baton's configuration that actions may depend on. */
export interface ActionEnvironment {
  /** The only directory `file.*` actions may touch. */
  filesDir: string;
  /** Hosts and CIDRs `http.request` may reach despite the private-address guard. */
  httpAllow: readonly string[];
  /** Cap on captured output (bytes) for one task. */
  outputLimitBytes: number;
}

/** Calls to an OAuth2 connection's API; the token is added (and refreshed) by Baton, never shown to the action. */
export interface ConnectionAccess {
  /** `path` is relative to the provider's API URL, or an absolute URL on its origin. */
  fetch(connection: string, path: string, init?: RequestInit): Promise<Response>;
}

export interface ActionContext<I> {
  /** Rendered from the workflow's templates, then validated by the action's input schema. */
  input: I;
  /** Only the secrets the action declared. */
  secrets: Readonly<Record<string, string | undefined>>;
  /** Aborted on task timeout, run timeout or cancellation; pass it to anything that waits. */
  signal: AbortSignal;
  log: TaskLogger;
  /** Stable across attempts of the same task in the same run: use it for external dedupe. */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  run: { id: string; workflow: string };
  task: { id: string };
  env: ActionEnvironment;
  /** OAuth2 connections by name (`connection: <name>` in a task's inputs). */
  connections: ConnectionAccess;
}

export interface ActionDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: I;
  output: O;
  /** Names of secrets the action reads (`BATON_SECRET_<NAME>` or the vault). */
  secrets?: readonly string[];
  run(ctx: ActionContext<z.output<I>>): Promise<z.input<O>> | z.input<O>;
}

// biome-ignore lint/suspicious/noExplicitAny: a catalogue holds actions of every input/output type
export type AnyAction = ActionDefinition<any, any>;

/** The default export of every file in `actions/`. */
export function defineAction<I extends z.ZodType, O extends z.ZodType>(
  definition: ActionDefinition<I, O>,
): ActionDefinition<I, O> {
  return definition;
}
