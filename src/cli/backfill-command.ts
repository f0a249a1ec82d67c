import { startRun } from '../engine/start-run.ts';
import { BatonError } from '../errors.ts';
import { openQueue } from '../queue/open-queue.ts';
import { openStore } from '../store/db.ts';
import { backfill, backfillPlan, parseBackfillTime } from '../triggers/backfill.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { openWorkspace, resolveWorkflow } from './workspace.ts';

export interface BackfillCommandOptions {
  target: string;
  from?: string;
  to?: string;
  entry?: string;
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * `baton backfill <workflow> --from … --to …`: starts the runs of every scheduled time in the range
 * (both ends included) in the database serve uses. Idempotent: times that already have a run are
 * listed as existing. Without Redis the runs wait queued until a `serve` picks them up.
 */
export async function backfillCommand(opts: BackfillCommandOptions): Promise<number> {
  if (!opts.from || !opts.to) {
    opts.err('error: baton backfill needs --from and --to (ISO dates or times, e.g. 2025-01-31T00:00:00Z)');
    return 2;
  }
  const { config, catalogue } = await openWorkspace();
  const loaded = await resolveWorkflow(opts.target, config, catalogue);
  if (!loaded.workflow) {
    opts.err(formatProblems(loaded.problems, 'text'));
    return 2;
  }
  const workflow = loaded.workflow;
  let request: Parameters<typeof backfill>[1];
  try {
    request = {
      workflow,
      from: parseBackfillTime(opts.from, '--from'),
      to: parseBackfillTime(opts.to, '--to'),
      ...(opts.entry ? { entry: opts.entry } : {}),
    };
    backfillPlan(request); // every check before the database is opened
  } catch (err) {
    if (err instanceof BatonError) {
      opts.err(`error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  const queue = openQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  try {
    await store.migrate();
    const items = await backfill((r) => startRun({ db: store.db, queue }, r), request);
    const started = items.filter((i) => i.created).length;
    if (opts.json) {
      opts.out(
        JSON.stringify({ workflow: workflow.name, started, existing: items.length - started, runs: items }),
      );
    } else {
      for (const item of items) {
        opts.out(
          `${item.created ? 'started ' : 'existing'}  ${item.scheduledAt}  [${item.entry}]  run ${item.runId}`,
        );
      }
      opts.out(
        `${workflow.name}: ${items.length} scheduled time(s) from ${request.from.toISOString()} to ${request.to.toISOString()}: ${started} started, ${items.length - started} already had a run`,
      );
      if (started > 0 && !config.redisUrl)
        opts.out('the runs are queued; a running `baton serve` on this database picks them up');
    }
    return 0;
  } finally {
    await queue.close();
    await store.close();
  }
}
