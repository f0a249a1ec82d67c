import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { maskUserinfo } from '../config.ts';
import { BatonError } from '../errors.ts';

export interface GitSyncOptions {
  remote: string;
  branch: string;
  /** The checkout's folder, e.g. `<dataDir>/git`. */
  dir: string;
  /** Per git call. */
  timeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Called after a sync moved the checkout to a new commit. */
  onCommit?: (commit: string) => void | Promise<void>;
}

export interface GitSyncStatus {
  commit: string | null;
  last_sync_at: string | null;
  error: string | null;
}

/** Runs git with an argument array (never a shell); rejects with stderr in the message. */
function git(args: string[], cwd: string | undefined, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'git',
      args,
      { cwd, timeout: timeoutMs, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (err, stdout, stderr) => {
        if (err) {
          const detail = maskUserinfo(String(stderr).trim() || err.message);
          reject(new BatonError('internal', `git ${args[0]} failed: ${detail}`, { cause: err }));
        } else resolvePromise(String(stdout).trim());
      },
    );
  });
}

/**
 * A checkout of one branch of a remote, kept at the remote's tip: cloned when missing, then
 * each tick fetches and fast-forwards, or follows a force-push with a hard reset.
 */
export class GitSync {
  private readonly options: GitSyncOptions;
  private readonly timeoutMs: number;
  private state: GitSyncStatus = { commit: null, last_sync_at: null, error: null };
  /** The commit onCommit was last told about (state.commit moves ahead of it during a sync). */
  private recorded: string | null = null;
  private running: Promise<GitSyncStatus> | undefined;
  private again = false;
  private interval: ReturnType<typeof setInterval> | undefined;

  constructor(options: GitSyncOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  status(): GitSyncStatus {
    return { ...this.state };
  }

  /** The commit the checkout is at, or null before the first successful sync. */
  commit(): string | null {
    return this.state.commit;
  }

  /** Syncs now; a tick asked for while one runs is run once after it. Never throws. */
  tick(): Promise<GitSyncStatus> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again);
      return this.status();
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Ticks every `intervalMs` until stop(). */
  startInterval(intervalMs: number): void {
    this.interval ??= setInterval(() => void this.tick(), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    await this.running;
  }

  private async syncOnce(): Promise<void> {
    const { remote, branch, dir } = this.options;
    const t = this.timeoutMs;
    try {
      // init + fetch rather than clone, so a folder that already holds files (the registry's) works.
      if (!existsSync(join(dir, '.git'))) {
        mkdirSync(dir, { recursive: true });
        await git(['init', '--quiet'], dir, t);
        await git(['remote', 'add', 'origin', '--', remote], dir, t);
      }
      await git(
        ['fetch', '--quiet', 'origin', '--', `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
        dir,
        t,
      );
      const fetched = await git(['rev-parse', '--verify', `refs/remotes/origin/${branch}^{commit}`], dir, t);
      const head = await git(['rev-parse', '--verify', 'HEAD'], dir, t).catch(() => undefined);
      if (head !== fetched) {
        // Name the new commit before the files change: a reload the file watcher starts while git
        // rewrites the folder must not record the new content under the previous commit.
        const previous = this.state.commit;
        this.state = { ...this.state, commit: fetched };
        try {
          await this.moveTo(head, fetched);
        } catch (err) {
          this.state = { ...this.state, commit: previous };
          throw err;
        }
      }
      const commit = await git(['rev-parse', 'HEAD'], dir, t);
      const changed = commit !== this.recorded;
      this.recorded = commit;
      this.state = { commit, last_sync_at: new Date().toISOString(), error: null };
      if (changed) {
        this.options.log?.('info', `git sync: checkout at ${commit.slice(0, 12)}`);
        await this.options.onCommit?.(commit);
      }
    } catch (err) {
      const message = (err as Error).message;
      this.options.log?.('error', `git sync of ${maskUserinfo(remote)} (${branch}): ${message}`);
      this.state = { ...this.state, last_sync_at: new Date().toISOString(), error: message };
    }
  }

  /** Fast-forward when the new tip descends from the checkout, else (a force-push) reset to it. */
  private async moveTo(head: string | undefined, fetched: string): Promise<void> {
    const { branch, dir } = this.options;
    const t = this.timeoutMs;
    const ancestor =
      head !== undefined &&
      (await git(['merge-base', '--is-ancestor', head, fetched], dir, t).then(
        () => true,
        () => false,
      ));
    if (ancestor) await git(['merge', '--ff-only', '--quiet', fetched], dir, t);
    else {
      if (head !== undefined)
        this.options.log?.('warn', `git sync: ${branch} was force-pushed; resetting to ${fetched}`);
      await git(['reset', '--hard', '--quiet', fetched], dir, t);
    }
  }
}
