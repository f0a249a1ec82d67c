import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { openStore, type Store } from '../../src/store/db.ts';
import { deleteKeys } from './redis-keys.ts';

export const REPO = resolve(import.meta.dirname, '../..');
const BUN = join(REPO, 'node_modules/.bin/bun');
export const ADMIN_URL = process.env.DATABASE_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
/** Where serve and workers write Bun CPU profiles, when set: markdown, or Chrome's JSON format with BENCH_PROFILE_FORMAT=json. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const PROFILE_FLAG = process.env.BENCH_PROFILE_FORMAT === 'json' ? '--cpu-prof' : '--cpu-prof-md';

export interface Proc {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Bench {
  dir: string;
  databaseUrl: string;
  prefix: string;
  env: Record<string, string>;
  store: Store;
  /** `baton serve` on a free port; resolves with its URL once it listens. */
  serve(extra?: Record<string, string>): Promise<{ proc: Proc; url: string }>;
  worker(concurrency: number, extra?: Record<string, string>): Proc;
  close(): Promise<void>;
}

/**
 * A fresh database and Redis prefix, a workflows folder with the given files, and helpers to
 * start Baton's own processes on them exactly as a user would (`bun src/cli.ts serve|worker`).
 */
export async function openBench(workflows: Record<string, string>): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  mkdirSync(join(dir, 'workflows'));
  for (const [name, text] of Object.entries(workflows)) writeFileSync(join(dir, 'workflows', name), text);
  const database = `baton_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const store = openStore({ databaseUrl, dataDir: dir, max: 4 });
  await store.migrate();
  const prefix = `baton-bench-${randomBytes(4).toString('hex')}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    BATON_QUEUE_PREFIX: prefix,
    BATON_WORKFLOWS_DIR: join(dir, 'workflows'),
    BATON_DATA_DIR: dir,
    BATON_LOG_LEVEL: 'warn',
  };
  const procs: Proc[] = [];

  const start = (args: string[], extra: Record<string, string>): Proc => {
    const profile = PROFILE_DIR
      ? { BUN_OPTIONS: `${PROFILE_FLAG} --cpu-prof-interval=250 --cpu-prof-dir=${PROFILE_DIR}` }
      : {};
    const child = spawn(BUN, [join(REPO, 'src/cli.ts'), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env, ...profile, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-20_000);
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const proc: Proc = {
      child,
      pid: child.pid ?? -1,
      stderr: () => err,
      async kill(signal = 'SIGKILL') {
        if (child.exitCode === null) child.kill(signal);
        await exited;
      },
    };
    procs.push(proc);
    return proc;
  };

  return {
    dir,
    databaseUrl,
    prefix,
    env,
    store,
    async serve(extra = {}) {
      const proc = start(['serve'], { PORT: '0', ...extra });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const m = /Baton on (http:\/\/\S+)/.exec(proc.stderr());
        if (m?.[1]) return { proc, url: m[1] };
        if (proc.child.exitCode !== null) throw new Error(`serve exited: ${proc.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`serve did not start: ${proc.stderr()}`);
    },
    worker(concurrency, extra = {}) {
      return start(['worker', '--concurrency', String(concurrency)], extra);
    },
    async close() {
      // With BENCH_PROFILE_DIR set, children get SIGTERM so Bun writes their CPU profiles on exit.
      await Promise.all(procs.map((p) => p.kill(PROFILE_DIR ? 'SIGTERM' : 'SIGKILL')));
      await store.close();
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${database}" with (force)`);
      await a.end();
      // The queue's stream: an ingest pass leaves up to 100,000 entries in it.
      await deleteKeys(REDIS_URL, prefix);
    },
  };
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
}
