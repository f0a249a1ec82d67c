#!/usr/bin/env bun
import { parseArgs } from 'node:util';
import { backfillCommand } from './cli/backfill-command.ts';
import { graphCommand } from './cli/graph-command.ts';
import { planCommand } from './cli/plan-command.ts';
import { runCommand } from './cli/run-command.ts';
import { secretsCommand } from './cli/secrets-command.ts';
import { migrateCommand, serveCommand, workerCommand } from './cli/service-commands.ts';
import { testCommand } from './cli/test-command.ts';
import { type ProblemFormat, validateCommand } from './cli/validate-command.ts';
import { ConfigError } from './config.ts';
import { CancelledError } from './errors.ts';

const HELP = `baton — GitOps workflow automation

Usage:
  baton run <file|name> [--input JSON|@file] [--json] [--no-store]
                                                        run a workflow here, printing progress
  baton validate [paths…] [--format text|json|github]   check workflow files; exit 1 on any problem
  baton test [paths…] [--format text|json]              run the *.test.yaml workflow tests; exit 1 on a failure
  baton graph <file|name> [--format mermaid|dot]        print the task graph
  baton plan --base REF [--head REF] [--format text|markdown|json]
                                                        what merging would change (head: working tree by default)
  baton serve                                           HTTP API, reconciler; in-process workers without Redis
  baton worker [--concurrency N]                        run workers on Redis Streams + Postgres
  baton migrate                                         apply database migrations
  baton secrets set NAME < value                        store a secret, encrypted (value from stdin)
  baton secrets list [--json]                           secret names and where they come from (never values)
  baton secrets rm NAME                                 remove a secret from the store
  baton secrets rotate-key                              re-wrap the data key with BATON_NEW_MASTER_KEY (or stdin)
  baton backfill <workflow> --from ISO --to ISO [--entry ID] [--json]
                                                        start the runs of past scheduled times (idempotent)
  baton help                                            this text

Environment: see README.md (BATON_WORKFLOWS_DIR, BATON_ACTIONS_DIR, BATON_SECRET_<NAME>, ...).
`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          input: { type: 'string', short: 'i' },
          json: { type: 'boolean', default: false },
          'no-store': { type: 'boolean', default: false },
        },
      });
      const target = one(positionals, 'run');
      const controller = cancelOnSignals();
      return runCommand({
        target,
        input: values.input,
        json: values.json ?? false,
        store: !values['no-store'],
        out,
        err,
        color: process.stdout.isTTY === true && !process.env.NO_COLOR,
        signal: controller.signal,
      });
    }
    case 'validate': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { format: { type: 'string', short: 'f', default: 'text' } },
      });
      const format = choice(values.format, ['text', 'json', 'github'] as const, '--format');
      return validateCommand(positionals, format as ProblemFormat, out);
    }
    case 'test': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { format: { type: 'string', short: 'f', default: 'text' } },
      });
      const format = choice(values.format, ['text', 'json'] as const, '--format');
      return testCommand({ paths: positionals, json: format === 'json', out, err });
    }
    case 'graph': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { format: { type: 'string', short: 'f', default: 'mermaid' } },
      });
      const format = choice(values.format, ['mermaid', 'dot'] as const, '--format');
      return graphCommand(one(positionals, 'graph'), format, out, err);
    }
    case 'plan': {
      const { values } = parseArgs({
        args: rest,
        options: {
          base: { type: 'string' },
          head: { type: 'string' },
          format: { type: 'string', short: 'f', default: 'text' },
        },
      });
      const format = choice(values.format, ['text', 'markdown', 'json'] as const, '--format');
      return planCommand({ base: values.base, head: values.head, format, out, err });
    }
    case 'serve':
      return serveCommand();
    case 'worker': {
      const { values } = parseArgs({ args: rest, options: { concurrency: { type: 'string', short: 'c' } } });
      const n = values.concurrency === undefined ? undefined : Number(values.concurrency);
      if (n !== undefined && (!Number.isInteger(n) || n < 1))
        throw new UsageError('--concurrency must be a whole number ≥ 1');
      return workerCommand(n);
    }
    case 'migrate':
      return migrateCommand(out);
    case 'backfill': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          from: { type: 'string' },
          to: { type: 'string' },
          entry: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
      return backfillCommand({
        target: one(positionals, 'backfill'),
        from: values.from,
        to: values.to,
        entry: values.entry,
        json: values.json ?? false,
        out,
        err,
      });
    }
    case 'secrets': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: 'boolean', default: false } },
      });
      const [action = '', ...args] = positionals;
      return secretsCommand({ action, args, json: values.json ?? false, readInput: readStdin, out, err });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(HELP);
      return 0;
    default:
      err(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

class UsageError extends Error {}

/** A value piped in (`printf %s "$TOKEN" | baton secrets set NAME`), so it never shows in `ps` or shell history. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) err('type the value, then Enter and Ctrl-D:');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function one(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`baton ${command} takes one workflow file or name`);
  return positionals[0] as string;
}

function choice<T extends string>(value: string | undefined, options: readonly T[], flag: string): T {
  if (options.includes(value as T)) return value as T;
  throw new UsageError(`${flag} must be one of ${options.join(', ')} (got "${value}")`);
}

/** First Ctrl-C cancels the run cleanly; a second one exits at once. */
function cancelOnSignals(): AbortController {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    err(`\n${signal}: cancelling the run (again to exit at once)`);
    controller.abort(new CancelledError(`cancelled by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller;
}

/**
 * Sets the exit code and lets the process end on its own, so a slow pipe (`| less`, CI logs)
 * still receives every line; a process.exit() here would drop what is buffered. The unref'd
 * timer is a backstop for a handle left open by mistake.
 */
function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 10_000).unref();
}

main(process.argv.slice(2)).then(exit, (e: unknown) => {
  if (
    e instanceof UsageError ||
    e instanceof ConfigError ||
    (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    err(`error: ${(e as Error).message}`);
    exit(2);
    return;
  }
  err(`error: ${(e as Error).stack ?? String(e)}`);
  exit(1);
});
