import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import type {
  ActionContext,
  ActionEnvironment,
  AnyAction,
  ConnectionAccess,
  LogLevel,
} from '../../src/plugins/define-action.ts';
import { NO_CONNECTIONS } from '../../src/plugins/no-connections.ts';

export interface LoggedLine {
  level: LogLevel;
  stream?: 'stdout' | 'stderr';
  message: string;
}

export interface CallOptions {
  env?: Partial<ActionEnvironment>;
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  attempt?: number;
  connections?: ConnectionAccess;
}

/**
 * Calls an action the way the executor does: the input is parsed by the action's schema,
 * the output is checked against its output schema. Returns output and the log lines.
 */
export async function callAction(action: AnyAction, input: unknown, options: CallOptions = {}) {
  const lines: LoggedLine[] = [];
  const push = (level: LogLevel) => (message: string) => lines.push({ level, message });
  const ctx: ActionContext<z.output<typeof action.input>> = {
    input: action.input.parse(input),
    secrets: Object.fromEntries(
      (action.secrets ?? []).map((name: string) => [name, options.secrets?.[name]]),
    ),
    signal: options.signal ?? new AbortController().signal,
    log: {
      debug: push('debug'),
      info: push('info'),
      warn: push('warn'),
      error: push('error'),
      line: (stream, message) =>
        lines.push({ level: stream === 'stderr' ? 'warn' : 'info', stream, message }),
    },
    idempotencyKey: 'test-run:test-task',
    attempt: options.attempt ?? 1,
    run: { id: 'test-run', workflow: 'test' },
    task: { id: 'test-task' },
    env: {
      filesDir: options.env?.filesDir ?? mkdtempSync(join(tmpdir(), 'baton-files-')),
      httpAllow: options.env?.httpAllow ?? [],
      outputLimitBytes: options.env?.outputLimitBytes ?? 256 * 1024,
    },
    connections: options.connections ?? NO_CONNECTIONS,
  };
  const output = action.output.parse(await action.run(ctx));
  return { output, lines };
}
