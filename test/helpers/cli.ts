import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
const LOCAL_BUN = join(REPO, 'node_modules/.bin/bun');
export const BUN = existsSync(LOCAL_BUN) ? LOCAL_BUN : process.execPath;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  pid: number;
  /** Everything printed to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** False once the process has exited. */
  running(): boolean;
  signal(name: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

/** A scratch data dir per call so runs never share files. */
export function scratchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-e2e-'));
  return { BATON_DATA_DIR: dir, BATON_FILES_DIR: join(dir, 'files'), NO_COLOR: '1', ...extra };
}

/** Starts `baton <args>` as its own process, from the repository root. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
  /** Written to the process's stdin, which is then closed. */
  input?: string,
): CliProcess {
  const child = spawn(BUN, [join(REPO, 'src/cli.ts'), ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] as ['pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliResult>((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolveDone({ code, stdout, stderr }));
  });
  return {
    pid: child.pid ?? -1,
    stdout: () => stdout,
    stderr: () => stderr,
    running: () => child.exitCode === null && child.signalCode === null,
    signal: (name) => child.kill(name),
    done,
  };
}

export function runCli(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO,
  input?: string,
): Promise<CliResult> {
  return startCli(args, env, cwd, input).done;
}
