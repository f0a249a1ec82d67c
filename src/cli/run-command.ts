import { readFileSync } from 'node:fs';
import { type Config, secretsFromEnv } from '../config.ts';
import { loadProviders } from '../connections/providers.ts';
import { Connections } from '../connections/service.ts';
import type { EventSink } from '../engine/events.ts';
import { executeRun } from '../engine/executor.ts';
import { startRun } from '../engine/start-run.ts';
import { coerceError } from '../errors.ts';
import { sleep } from '../plugins/abort.ts';
import type { Catalogue } from '../plugins/catalogue.ts';
import { MemoryQueue } from '../queue/memory-queue.ts';
import { actionEnvironment } from '../runtime.ts';
import { secretSource } from '../secrets/source.ts';
import { SecretVault } from '../secrets/vault.ts';
import { openStore } from '../store/db.ts';
import { getRun, requestCancel } from '../store/runs.ts';
import { uuidv7 } from '../util/ids.ts';
import { Worker } from '../worker/worker.ts';
import { checkInputs } from '../workflow/inputs.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import type { Workflow } from '../workflow/types.ts';
import { humanPrinter, jsonPrinter } from './printer.ts';
import { openWorkspace, resolveWorkflow } from './workspace.ts';

export interface RunCommandOptions {
  target: string;
  input?: string;
  json: boolean;
  /** Record the run in Postgres when DATABASE_URL is set. */
  store: boolean;
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
  if (opts.store && config.databaseUrl)
    return recordedRun(config, catalogue, loaded.workflow, inputs, printer, opts);
  const result = await executeRun({
    workflow: loaded.workflow,
    actions: catalogue.actions,
    runId: uuidv7(),
    trigger: { type: 'cli', inputs },
    secrets: secretsFromEnv(process.env),
    events: printer,
    env: actionEnvironment(config),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return result.status === 'succeeded' ? 0 : 1;
}

/**
 * With a database configured the run is recorded like any other: committed first, then run
 * here by an in-process worker under a lease, so it shows in the history and can be resumed.
 */
async function recordedRun(
  config: Config,
  catalogue: Catalogue,
  workflow: Workflow,
  inputs: Record<string, unknown>,
  printer: EventSink,
  opts: RunCommandOptions,
): Promise<number> {
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    prepare: config.dbPrepare,
    max: 4,
  });
  const vault = new SecretVault(store.db, config.masterKey);
  const secrets = secretSource(vault);
  const connections = new Connections({
    db: store.db,
    vault,
    secrets,
    providers: loadProviders(process.env, config.oauthFile),
    publicUrl: config.publicUrl,
    refreshMarginMs: config.oauthRefreshMarginMs,
  });
  const queue = new MemoryQueue();
  let finalStatus: string | undefined;
  const worker = new Worker({
    db: store.db,
    queue,
    actions: () => catalogue.actions,
    env: actionEnvironment(config),
    secrets: () => secrets.all(),
    connections,
    concurrency: 1,
    leaseMs: config.leaseMs,
    events: {
      emit(event) {
        if (event.type === 'run.status' && event.status !== 'running') finalStatus = event.status;
        return printer.emit(event);
      },
    },
    log: (level, message) => opts.err(`${level}: ${message}`),
  });
  try {
    await store.migrate();
    const { run } = await startRun({ db: store.db, queue }, { workflow, trigger: { type: 'cli', inputs } });
    opts.signal?.addEventListener('abort', () => void requestCancel(store.db, run.id), { once: true });
    worker.start();
    while (finalStatus === undefined) {
      const row = await getRun(store.db, run.id);
      if (row && isFinal(row.status)) finalStatus = row.status;
      else await sleep(100);
    }
    return finalStatus === 'succeeded' ? 0 : 1;
  } finally {
    await worker.stop(config.shutdownGraceMs);
    await queue.close();
    await store.close();
  }
}

function isFinal(status: string): boolean {
  return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(status);
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
