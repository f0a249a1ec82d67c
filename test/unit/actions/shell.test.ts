// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Baton templates and shell variables are data here
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import shell from '../../../actions/shell.ts';
import { ActionError, CancelledError, NonRetriableError, TimeoutError } from '../../../src/errors.ts';
import { groupMembers } from '../../../src/util/process-group.ts';
import { shellShorthand } from '../../../src/workflow/normalize.ts';
import type { TaskFile } from '../../../src/workflow/spec.ts';
import { render } from '../../../src/workflow/templates.ts';
import { callAction } from '../../helpers/action-context.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'baton-shell-'));

/** The state letter from /proc/<pid>/stat (R, S, Z, ...), or undefined when the process is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits until a file holds a complete line with a pid in it. */
async function pidFrom(file: string): Promise<number> {
  return waitFor(
    () => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return text.endsWith('\n') ? Number(text.trim()) : 0;
    },
    { message: `pid in ${file}` },
  );
}

describe('shell action', () => {
  it('captures stdout and stderr and streams them line by line', async () => {
    const { output, lines } = await callAction(shell, { command: 'echo one; echo two >&2; printf three' });
    expect(output).toEqual({ stdout: 'one\nthree', stderr: 'two', exit_code: 0 });
    const streamed = lines.filter((l) => l.stream).map((l) => `${l.stream}:${l.message}`);
    expect(streamed).toContain('stdout:one');
    expect(streamed).toContain('stdout:three');
    expect(streamed).toContain('stderr:two');
  });

  it('passes env values as text, objects and lists as JSON and null as empty', async () => {
    const env = { A: 'x y', N: 42, B: true, O: { k: [1, 2] }, L: ['a'], Z: null };
    const { output } = await callAction(shell, {
      command: `printf '%s|' "$A" "$N" "$B" "$O" "$L" "$Z"`,
      env,
    });
    expect(output.stdout).toBe('x y|42|true|{"k":[1,2]}|["a"]||');
  });

  it('treats values with shell metacharacters as data, never as source', async () => {
    const dir = tempDir();
    const marker = join(dir, 'pwned');
    const values = [
      `"; touch ${marker}; echo "`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `'; touch ${marker}; '`,
    ];
    // The path a workflow takes: `run:` becomes `shell` with the values in env, rendered by the executor.
    const { inputs } = shellShorthand({
      run: 'printf "%s\\n" "${trigger.body.a}" ${trigger.body.b}',
    } as TaskFile);
    for (const value of values) {
      // Rendered as the executor does: the command comes back as plain `${BATON_Vn}` references.
      const rendered = render(inputs, { trigger: { body: { a: value, b: value } } }) as Record<
        string,
        unknown
      >;
      expect(rendered.command).toBe('printf "%s\\n" "${BATON_V1}" ${BATON_V2}');
      const { output } = await callAction(shell, rendered);
      expect(output.stdout.split('\n')[0]).toBe(value);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('keeps Baton credentials out of the child environment', async () => {
    process.env.BATON_SECRET_SHELL_TEST = 'hunter2';
    const hadDatabaseUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://baton:pw@db/baton';
    try {
      const { output } = await callAction(shell, {
        command: 'printf %s "${BATON_SECRET_SHELL_TEST-unset}${DATABASE_URL-}"',
      });
      expect(output.stdout).toBe('unset');
    } finally {
      delete process.env.BATON_SECRET_SHELL_TEST;
      if (hadDatabaseUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = hadDatabaseUrl;
    }
  });

  it('fails on a non-zero exit, naming the code and the last stderr lines', async () => {
    const failing = callAction(shell, { command: 'echo partial; echo oops >&2; exit 3' });
    await expect(failing).rejects.toBeInstanceOf(ActionError);
    await expect(failing).rejects.toThrow(/exited with code 3; last stderr lines:\noops/);
    await expect(failing).rejects.toMatchObject({
      details: { stdout: 'partial', stderr: 'oops', exit_code: 3 },
    });
  });

  it('names the signal when the command is killed by one', async () => {
    await expect(callAction(shell, { command: 'kill -KILL $$' })).rejects.toThrow(/killed by signal SIGKILL/);
  });

  it('truncates captured output at the limit with a marker', async () => {
    const { output, lines } = await callAction(
      shell,
      { command: 'head -c 1000 /dev/zero | tr "\\0" a; for i in 1 2 3; do echo line$i >&2; done' },
      { env: { outputLimitBytes: 100 } },
    );
    expect(output.stdout).toBe(`${'a'.repeat(100)}\n… [output truncated: 900 bytes more]`);
    expect(output.stderr).toBe('line1\nline2\nline3');
    expect(lines.some((l) => l.message === 'a'.repeat(1000))).toBe(true);
  });

  it('never cuts a multi-byte character in half when truncating', async () => {
    const { output } = await callAction(shell, { command: 'printf ééé' }, { env: { outputLimitBytes: 5 } });
    expect(output.stdout).toBe('éé\n… [output truncated: 2 bytes more]');
  });

  it('stops logging a stream once it passes the limit', async () => {
    const { lines } = await callAction(shell, { command: 'seq 1 1000' }, { env: { outputLimitBytes: 20 } });
    const logged = lines.filter((l) => l.stream === 'stdout');
    expect(logged.length).toBeLessThan(20);
    expect(lines.some((l) => l.level === 'warn' && /output limit of 20 bytes/.test(l.message))).toBe(true);
  });

  it('runs in cwd, absolute or relative to the process directory', async () => {
    const dir = realpathSync(tempDir());
    const absolute = await callAction(shell, { command: 'pwd -P', cwd: dir });
    expect(absolute.output.stdout.trim()).toBe(dir);
    const relativeRun = await callAction(shell, { command: 'pwd -P', cwd: relative(process.cwd(), dir) });
    expect(relativeRun.output.stdout.trim()).toBe(dir);
  });

  it('refuses a cwd that does not exist, naming it', async () => {
    const missing = join(tempDir(), 'nope');
    const run = callAction(shell, { command: 'true', cwd: missing });
    await expect(run).rejects.toBeInstanceOf(NonRetriableError);
    await expect(run).rejects.toThrow(`working directory ${missing} does not exist`);
  });

  it('refuses a shell that cannot be started', async () => {
    const run = callAction(shell, { command: 'true', shell: '/nonexistent/shell' });
    await expect(run).rejects.toBeInstanceOf(NonRetriableError);
    await expect(run).rejects.toThrow(/could not start \/nonexistent\/shell/);
  });

  it('rejects invalid environment variable names', async () => {
    await expect(callAction(shell, { command: 'true', env: { 'A=B': 'x' } })).rejects.toThrow(
      /environment variable/,
    );
  });

  it('does not start when the signal is already aborted', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    controller.abort();
    const run = callAction(shell, { command: `touch ${join(dir, 'ran')}` }, { signal: controller.signal });
    await expect(run).rejects.toThrow();
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  const trees = {
    'a background grandchild':
      'echo $$ > "$DIR/shell.pid"; sleep 300 & echo $! > "$DIR/grandchild.pid"; sleep 300',
    'a nested shell with its own background child':
      'echo $$ > "$DIR/shell.pid"; bash -c \'sleep 300 & echo $! > "$DIR/grandchild.pid"; sleep 300; echo after\'',
  };
  for (const [name, command] of Object.entries(trees)) {
    it(`leaves no process behind when aborted: ${name}`, async () => {
      const dir = tempDir();
      const controller = new AbortController();
      const run = callAction(shell, { command, env: { DIR: dir } }, { signal: controller.signal });
      run.catch(() => {}); // observed below; keeps an early rejection from being reported as unhandled
      const shellPid = await pidFrom(join(dir, 'shell.pid'));
      const grandchildPid = await pidFrom(join(dir, 'grandchild.pid'));
      const reason = new TimeoutError('task timed out after 1s');
      const started = Date.now();
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
      expect(Date.now() - started).toBeLessThan(5000);
      // When bash exec'd into the last `sleep`, the grandchild's parent never reaps it: init does, in a moment.
      await waitFor(() => isGone(shellPid) && isGone(grandchildPid), {
        timeoutMs: 10_000,
        message: 'shell and grandchild gone',
      });
      // Gone, not zombies waiting for a reaper, and nothing else left in the group.
      expect(processState(shellPid)).toBeUndefined();
      expect(processState(grandchildPid)).toBeUndefined();
      expect(groupMembers(shellPid)).toEqual([]);
    });
  }

  it('kills a command that ignores SIGTERM once the grace period is over', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const command = `trap '' TERM; echo $$ > "$DIR/shell.pid"; while :; do sleep 0.1; done`;
    const run = callAction(shell, { command, env: { DIR: dir } }, { signal: controller.signal });
    run.catch(() => {});
    const shellPid = await pidFrom(join(dir, 'shell.pid'));
    const started = Date.now();
    controller.abort(new CancelledError('cancelled by test'));
    await expect(run).rejects.toThrow('cancelled by test');
    expect(Date.now() - started).toBeLessThan(8000);
    expect(isGone(shellPid)).toBe(true);
    // The loop's last `sleep` may be handed to init to reap, but nothing in the group still runs.
    expect(groupMembers(shellPid)?.filter((m) => !m.zombie)).toEqual([]);
  });

  it('throws a CancelledError when aborted without an Error reason', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const run = callAction(
      shell,
      { command: 'echo $$ > "$DIR/shell.pid"; sleep 300', env: { DIR: dir } },
      {
        signal: controller.signal,
      },
    );
    run.catch(() => {});
    await pidFrom(join(dir, 'shell.pid'));
    controller.abort('user pressed cancel');
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });

  it('finishes when the command exits, stopping background processes it left holding stdout', async () => {
    const dir = tempDir();
    const started = Date.now();
    const { output, lines } = await callAction(shell, {
      command: 'sleep 30 & echo $! > "$DIR/bg.pid"; echo done',
      env: { DIR: dir },
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(output.stdout).toBe('done');
    expect(lines.some((l) => l.level === 'warn' && /background process/.test(l.message))).toBe(true);
    const bgPid = Number(readFileSync(join(dir, 'bg.pid'), 'utf8'));
    // Its parent shell had already exited, so init reaps it: gone, or a zombie until init gets to it.
    await waitFor(() => ['Z', undefined].includes(processState(bgPid)), {
      message: 'background sleep stopped',
    });
  });
});
