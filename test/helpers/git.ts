import { execFileSync } from 'node:child_process';

/** Runs git in `cwd` with a fixed identity (commits must not depend on the machine's git config). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    },
  }).trim();
}

/** A one-task workflow whose log message tells which commit it came from. */
export const sayFlow = (message: string) =>
  `tasks:\n  say:\n    action: log\n    inputs: { message: "${message}" }\n`;
