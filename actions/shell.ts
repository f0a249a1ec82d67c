import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { ActionError, NonRetriableError } from '../src/errors.ts';
import { abortError } from '../src/plugins/abort.ts';
import { defineAction, type TaskLogger } from '../src/plugins/define-action.ts';
import { terminateGroup } from '../src/util/process-group.ts';
import { toText } from '../src/workflow/templates.ts';

const DEFAULT_SHELL = existsSync('/bin/bash') ? 'bash' : 'sh';
/** Time between SIGTERM and SIGKILL when a task is stopped. */
const GRACE_MS = 2000;
/** After the group is gone, only a process that left it (setsid) can hold the pipes open. */
const DRAIN_MS = 500;
const TAIL_LINES = 5;
/** Output without newlines is logged in pieces of this size, so a line buffer cannot grow forever. */
const MAX_LINE_CHARS = 16 * 1024;
/** Baton's own settings and credentials (not the task's `env:`): a stray `env` in a script must not print them. */
const HIDDEN_ENV = /^(BATON_.+|DATABASE_URL|REDIS_URL)$/;

const input = z.strictObject({
  command: z.string().min(1, 'command is empty').describe('Script run as `<shell> -c <command>`.'),
  env: z
    .record(
      z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*$/,
          'environment variable names are letters, digits and _, not starting with a digit',
        ),
      z.json(),
    )
    .optional()
    .describe('Extra environment variables; objects and lists arrive as JSON, null as an empty string.'),
  cwd: z
    .string()
    .min(1)
    .optional()
    .describe('Working directory; relative paths resolve against Baton’s own.'),
  shell: z.string().min(1).optional().describe('Shell binary; default bash when /bin/bash exists, else sh.'),
});

const output = z.object({ stdout: z.string(), stderr: z.string(), exit_code: z.number().int() });

type Shell = ChildProcessByStdio<null, Readable, Readable>;
interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export default defineAction({
  name: 'shell',
  description:
    'Runs a shell command in its own process group, streaming stdout and stderr lines to the task log. ' +
    'Workflow values travel in environment variables, never as shell source. Fails on a non-zero exit; ' +
    'on timeout or cancel the whole process group is stopped (SIGTERM, then SIGKILL).',
  input,
  output,
  async run(ctx) {
    const { command, shell = DEFAULT_SHELL } = ctx.input;
    const cwd = resolve(process.cwd(), ctx.input.cwd ?? '.');
    checkDirectory(cwd);
    if (ctx.signal.aborted) throw abortError(ctx.signal);

    const child = start(shell, command, cwd, childEnv(ctx.input.env ?? {}));
    const limit = ctx.env.outputLimitBytes;
    const stdout = new CapturedStream('stdout', limit, ctx.log);
    const stderr = new CapturedStream('stderr', limit, ctx.log);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const closed = Promise.all([closeOf(child.stdout), closeOf(child.stderr)]);

    const pid = child.pid;
    let stopping: Promise<number> | undefined;
    const onAbort = () => {
      if (pid !== undefined) stopping ??= terminateGroup(pid, GRACE_MS);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let exit: Exit;
    try {
      exit = await exitOf(child);
    } catch (err) {
      throw new NonRetriableError(`could not start ${shell} in ${cwd}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }

    // Background processes the script left behind would hold the pipes open and outlive the task.
    const aborted = stopping !== undefined;
    const leftovers = pid === undefined ? 0 : await (stopping ?? terminateGroup(pid, GRACE_MS));
    if (!aborted && leftovers > 0) {
      ctx.log.warn(`stopped ${leftovers} background process(es) the command left running`);
    }
    await settled(closed, DRAIN_MS);
    child.stdout.destroy();
    child.stderr.destroy();
    stdout.end();
    stderr.end();
    if (aborted) throw abortError(ctx.signal);

    // Trailing newlines go, as with `$(...)` in a shell, so `${tasks.x.output.stdout}` reads cleanly.
    const result = { stdout: chomp(stdout.text()), stderr: chomp(stderr.text()), exit_code: exit.code ?? -1 };
    const tail = stderr.tail.length > 0 ? `; last stderr lines:\n${stderr.tail.join('\n')}` : '';
    if (exit.signal) {
      throw new ActionError(`command was killed by signal ${exit.signal}${tail}`, {
        details: { ...result, exit_code: null, signal: exit.signal },
      });
    }
    if (exit.code !== 0)
      throw new ActionError(`command exited with code ${exit.code}${tail}`, { details: result });
    return result;
  },
});

function checkDirectory(cwd: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(cwd).isDirectory();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message;
    throw new NonRetriableError(`working directory ${cwd} ${why}`, { cause: err });
  }
  if (!isDirectory) throw new NonRetriableError(`working directory ${cwd} is not a directory`);
}

function childEnv(extra: Record<string, unknown>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!HIDDEN_ENV.test(name)) env[name] = value;
  for (const [name, value] of Object.entries(extra)) env[name] = toText(value);
  return env;
}

function start(shell: string, command: string, cwd: string, env: NodeJS.ProcessEnv): Shell {
  try {
    // detached: the shell leads its own process group, so a stop reaches every process it started.
    return spawn(shell, ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new NonRetriableError(`could not start ${shell} in ${cwd}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function exitOf(child: Shell): Promise<Exit> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', reject);
  });
}

function closeOf(stream: Readable): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Waits for `promise`, but no longer than `ms`; the timer never outlives it. */
async function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One output stream: logged line by line, captured up to `limit` bytes, last lines kept for errors. */
class CapturedStream {
  readonly tail: string[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;
  private partial = '';
  private loggedBytes = 0;
  private logCut = false;

  constructor(
    private readonly name: 'stdout' | 'stderr',
    private readonly limit: number,
    private readonly log: TaskLogger,
  ) {}

  push(chunk: Buffer): void {
    const room = Math.max(0, Math.min(chunk.length, this.limit - this.keptBytes));
    if (room > 0) this.kept.push(chunk.subarray(0, room));
    this.keptBytes += room;
    this.droppedBytes += chunk.length - room;

    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
    while (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest !== '') this.emit(rest);
  }

  /** The captured text; beyond the limit, the first part and a marker saying how much is missing. */
  text(): string {
    const whole = Buffer.concat(this.kept);
    if (this.droppedBytes === 0) return whole.toString('utf8');
    const head = utf8Prefix(whole);
    const missing = this.droppedBytes + whole.length - head.length;
    return `${head.toString('utf8')}\n… [output truncated: ${missing} bytes more]`;
  }

  private emit(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() !== '') {
      this.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
    // The log is capped like the capture, so a chatty command cannot flood the log store.
    if (this.loggedBytes < this.limit) {
      this.loggedBytes += Buffer.byteLength(line) + 1;
      this.log.line(this.name, line);
    } else if (!this.logCut) {
      this.logCut = true;
      this.log.warn(
        `${this.name} passed the output limit of ${this.limit} bytes; further lines are not logged`,
      );
    }
  }
}

/** Drops a multi-byte character cut in half at the end of a buffer. */
function utf8Prefix(buf: Buffer): Buffer {
  let start = buf.length - 1;
  while (start >= 0 && buf.length - start < 4 && ((buf[start] ?? 0) & 0xc0) === 0x80) start--;
  if (start < 0) return buf;
  const lead = buf[start] ?? 0;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - start < size ? buf.subarray(0, start) : buf;
}

function chomp(text: string): string {
  return text.replace(/\r?\n+$/, '');
}
