import { readFileSync } from 'node:fs';
import { secretsFromEnv } from '../config.ts';
import { fanout } from '../engine/events.ts';
import { executeRun } from '../engine/executor.ts';
import { coerceError } from '../errors.ts';
import { uuidv7 } from '../util/ids.ts';
import { checkInputs } from '../workflow/inputs.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { humanPrinter, jsonPrinter } from './printer.ts';
import { openWorkspace, resolveWorkflow } from './workspace.ts';

export interface RunCommandOptions {
  target: string;
  input?: string;
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
  color: boolean;
  signal?: AbortSignal;
}

/** `baton run`: one run in this process. Exit code 0 only when the run succeeded. */
export async function runCommand(opts: RunCommandOptions): Promise<number> {
  const { config, catalogue } = await openWorkspace();
  for (const p of catalogue.problems) opts.err(`warning: ${p.file}: ${p.message}`);
  const loaded = await resolveWorkflow(opts.target, config, catalogue);
  if (!loaded.workflow) {
    opts.err(formatProblems(loaded.problems, 'text'));
    return 2;
  }
  let inputs: Record<string, unknown>;
  try {
    inputs = checkInputs(loaded.workflow, parseInput(opts.input));
  } catch (err) {
    opts.err(`error: ${coerceError(err).message}`);
    return 2;
  }
  const printer = opts.json ? jsonPrinter(opts.out) : humanPrinter(opts.out, opts.color);
  const result = await executeRun({
    workflow: loaded.workflow,
    actions: catalogue.actions,
    runId: uuidv7(),
    trigger: { type: 'cli', inputs },
    secrets: secretsFromEnv(process.env),
    events: fanout(printer),
    env: {
      filesDir: config.filesDir,
      httpAllow: config.httpAllow,
      outputLimitBytes: config.outputLimitBytes,
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return result.status === 'succeeded' ? 0 : 1;
}

/** `--input '{"a":1}'` or `--input @file.json`. */
function parseInput(raw: string | undefined): unknown {
  if (raw === undefined) return {};
  const text = raw.startsWith('@') ? readFile(raw.slice(1)) : raw;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`--input is not valid JSON: ${(err as Error).message}`);
  }
}

function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--input @${path}: ${(err as Error).message}`);
  }
}
