/** @jsxImportSource hono/jsx */
import { runOr404 } from '../../src/api/runs.ts';
import { FINISHED_STATUSES } from '../../src/api/schemas.ts';
import type { Redactor } from '../../src/engine/redact.ts';
import type { RunRow, TaskLogRow, TaskRunRow } from '../../src/store/schema.ts';
import { listLogs, listTaskRuns } from '../../src/store/task-runs.ts';
import { getVersion } from '../../src/store/versions.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { Commit } from '../components/commit.tsx';
import { DagSvg, graphOf } from '../components/dag.tsx';
import { JsonBlock } from '../components/json.tsx';
import { shortId } from '../components/runs-table.tsx';
import { ACTIVE_STATUSES, StatusBadge } from '../components/status.tsx';
import { ErrorSummary, groupLogs, TaskDetails, taskViews } from '../components/tasks.tsx';
import { elapsedMs, formatDuration, Time } from '../components/time.tsx';
import { Timeline } from '../components/timeline.tsx';
import { type PageDeps, runHref, workflowHref } from '../render.tsx';
import { RunActions } from './run-actions.tsx';
import { shortHash } from './workflow.tsx';

/** Log lines a run page shows; the API pages through the rest. */
export const LOG_LIMIT = 2000;
/** How often the page of a run still going asks for its live part again. */
export const LIVE_POLL = 'every 1s';

export interface RunData {
  now: Date;
  run: RunRow;
  tasks: TaskRunRow[];
  logs: TaskLogRow[];
  workflow: Workflow | undefined;
  versionHash: string | undefined;
  gitCommit: string | null;
  commitUrl: string | undefined;
  redactor: Redactor;
}

export async function loadRun(deps: PageDeps, id: string, redactor: Redactor): Promise<RunData> {
  const run = await runOr404(deps, id);
  const [tasks, logs, version] = await Promise.all([
    listTaskRuns(deps.db, run.id),
    listLogs(deps.db, run.id, { limit: LOG_LIMIT }),
    getVersion(deps.db, run.versionId),
  ]);
  return {
    now: new Date(),
    run,
    tasks,
    logs,
    workflow: version?.definition as Workflow | undefined,
    versionHash: version?.hash,
    gitCommit: version?.gitCommit ?? null,
    commitUrl: deps.config.gitCommitUrl,
    redactor,
  };
}

/**
 * Everything about a run that changes while it goes: status, buttons, graph, timeline, tasks. While
 * the run is going this part asks for itself every second and replaces itself; the version
 * rendered once the run has ended has no trigger, so the polling stops there.
 */
export function RunLive({ data }: { data: RunData }) {
  const { run, now, redactor } = data;
  const live = ACTIVE_STATUSES.has(run.status);
  const tasks = taskViews(data.tasks, data.workflow?.tasks ?? [], FINISHED_STATUSES.has(run.status));
  const ctx = { now, redactor, logs: groupLogs(data.logs) };
  const statuses = new Map(tasks.map((t) => [t.id, t.status]));
  const graph = data.workflow ? graphOf(data.workflow.tasks, statuses, (id) => `#task-${id}`) : undefined;
  const pollAttrs = live
    ? { 'hx-get': `/runs/${run.id}/live`, 'hx-trigger': LIVE_POLL, 'hx-swap': 'outerHTML' }
    : {};
  return (
    <div id="run-live" class={live ? 'live' : undefined} data-status={run.status} {...pollAttrs}>
      <div class="run-head">
        <div class="run-status">
          <StatusBadge status={run.status} />
          {run.cancelRequested && live && <span class="tag">cancel requested</span>}
          <span class="muted">
            {run.startedAt ? (
              <>
                started <Time at={run.startedAt} now={now} /> · {live ? 'running for ' : 'took '}
                {formatDuration(elapsedMs(run.startedAt, run.finishedAt, now))}
              </>
            ) : (
              <>
                created <Time at={run.createdAt} now={now} />
              </>
            )}
          </span>
        </div>
        <RunActions run={run} />
      </div>
      {run.error != null && (
        // A cancel was asked for: worth a note, not an alarm.
        <div class={run.status === 'cancelled' ? 'alert alert-warn' : 'alert alert-error'} role="alert">
          <ErrorSummary error={run.error} redactor={redactor} />
        </div>
      )}
      {graph && (
        <section class="section">
          <h2>Graph</h2>
          <DagSvg nodes={graph.nodes} edges={graph.edges} id="run-dag" />
        </section>
      )}
      <section class="section">
        <h2>Timeline</h2>
        <Timeline rows={data.tasks} runStart={run.startedAt} runEnd={run.finishedAt} now={now} />
      </section>
      <section class="section">
        <h2>Tasks</h2>
        <div class="tasks">
          {tasks.map((t) => (
            <TaskDetails task={t} ctx={ctx} />
          ))}
        </div>
        {data.logs.length >= LOG_LIMIT && (
          <p class="muted small">
            Showing the first {LOG_LIMIT} log lines; <a href={`/api/runs/${run.id}/logs`}>the API</a> has them
            all.
          </p>
        )}
      </section>
    </div>
  );
}

export function RunPage({ data }: { data: RunData }) {
  const { run, now } = data;
  return (
    <>
      <div class="page-head">
        <p class="crumbs">
          <a href="/runs">Runs</a> / <a href={workflowHref(run.workflow)}>{run.workflow}</a> /
        </p>
        <h1>
          Run{' '}
          <span class="mono" title={run.id}>
            {shortId(run.id)}
          </span>
        </h1>
        <p class="meta">
          <span class="tag">{run.triggerType}</span> · created <Time at={run.createdAt} now={now} exact />
          {data.versionHash && (
            <>
              {' '}
              · version <code title={data.versionHash}>{shortHash(data.versionHash)}</code>
            </>
          )}
          {data.gitCommit && (
            <>
              {' '}
              · commit <Commit sha={data.gitCommit} urlTemplate={data.commitUrl} />
            </>
          )}
          {run.parentRunId && (
            <>
              {' '}
              · retry of{' '}
              <a class="mono" href={runHref(run.parentRunId)}>
                {shortId(run.parentRunId)}
              </a>
            </>
          )}
        </p>
      </div>
      <RunLive data={data} />
      <section class="section">
        <h2>Trigger</h2>
        <JsonBlock label="What templates see as trigger" value={run.trigger} redactor={data.redactor} />
      </section>
    </>
  );
}
