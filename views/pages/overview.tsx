/** @jsxImportSource hono/jsx */
import type { z } from '@hono/zod-openapi';
import type { GitSyncStatus, WorkflowSummary } from '../../src/api/schemas.ts';
import { loadTriggerState, namedEntries, summarize } from '../../src/api/workflow-view.ts';
import { gitStatusOf } from '../../src/api/workflows.ts';
import { type RecentRun, recentRunsByWorkflow } from '../../src/store/page-queries.ts';
import { listRuns } from '../../src/store/run-queries.ts';
import type { RunRow } from '../../src/store/schema.ts';
import { Commit } from '../components/commit.tsx';
import { ProblemList } from '../components/problems.tsx';
import { RunsTable } from '../components/runs-table.tsx';
import { PollState, ScheduleSummaryCell } from '../components/schedules.tsx';
import { HistoryStrip, StatusBadge } from '../components/status.tsx';
import { Time } from '../components/time.tsx';
import { type PageDeps, redactorFor, workflowHref } from '../render.tsx';
import { maskPollError, pollFailing } from '../schedule.ts';

type Summary = z.infer<typeof WorkflowSummary>;

const HISTORY = 20;
const RECENT = 15;

export interface OverviewData {
  now: Date;
  workflows: { summary: Summary; history: RecentRun[] }[];
  recent: RunRow[];
  git: z.infer<typeof GitSyncStatus> | undefined;
  commitUrl: string | undefined;
}

export async function loadOverview(deps: PageDeps): Promise<OverviewData> {
  const state = await loadTriggerState(deps.db);
  const now = new Date();
  const redactor = await redactorFor(deps);
  const summaries = namedEntries(deps).map((e) => maskPollError(summarize(deps, e, now, state), redactor));
  const [history, recent] = await Promise.all([
    recentRunsByWorkflow(
      deps.db,
      summaries.map((s) => s.name),
      HISTORY,
    ),
    listRuns(deps.db, {}, { limit: RECENT }),
  ]);
  return {
    now,
    workflows: summaries.map((summary) => ({ summary, history: history.get(summary.name) ?? [] })),
    recent: recent.runs,
    git: gitStatusOf(deps),
    commitUrl: deps.config.gitCommitUrl,
  };
}

export function TriggerTags({ summary }: { summary: Summary }) {
  const types = summary.triggers.types;
  if (types.length === 0) return <span class="muted">API only</span>;
  return (
    <span class="tags">
      {types.map((t) => (
        <span class={`tag tag-${t}`}>{t}</span>
      ))}
    </span>
  );
}

function WorkflowRow({ summary, history, now }: { summary: Summary; history: RecentRun[]; now: Date }) {
  const last = history[0];
  const poll = summary.triggers.poll;
  return (
    <tr class={summary.valid ? undefined : 'invalid'} data-workflow={summary.name}>
      <td data-label="Workflow">
        <a class="strong" href={workflowHref(summary.name)}>
          {summary.name}
        </a>
        {summary.description && <span class="muted block">{summary.description}</span>}
        {!summary.valid && (
          <div class="problems-box">
            <span class="status st-failed">
              <span aria-hidden="true">✕ </span>
              {summary.problems.length} problem{summary.problems.length === 1 ? '' : 's'}
            </span>
            <ProblemList problems={summary.problems} />
          </div>
        )}
      </td>
      <td data-label="Triggers">
        <TriggerTags summary={summary} />
        {poll && pollFailing(poll.status) && (
          <span class="block">
            <PollState poll={poll} />
          </span>
        )}
      </td>
      <td data-label="Next schedule">
        <ScheduleSummaryCell summary={summary} now={now} />
      </td>
      <td data-label="Last run">
        {last ? (
          <a href={`/runs/${last.id}`} class="plain">
            <StatusBadge status={last.status} /> <Time at={last.createdAt} now={now} />
          </a>
        ) : (
          <span class="muted">never</span>
        )}
      </td>
      <td data-label="History">
        <HistoryStrip runs={history} />
      </td>
    </tr>
  );
}

/** Where git sync stands: the branch, its commit, the last sync, and the last error. */
function GitSyncLine({
  git,
  commitUrl,
  now,
}: {
  git: z.infer<typeof GitSyncStatus>;
  commitUrl: string | undefined;
  now: Date;
}) {
  return (
    <p class="muted git-sync">
      Git <code>{git.branch}</code>
      {git.commit && (
        <>
          {' at '}
          <Commit sha={git.commit} urlTemplate={commitUrl} />
        </>
      )}
      {git.last_sync_at && (
        <>
          {' · synced '}
          <Time at={new Date(git.last_sync_at)} now={now} />
        </>
      )}
      {git.error && (
        <>
          {' · '}
          <span class="text-failed">sync failed: {git.error}</span>
        </>
      )}
    </p>
  );
}

export function OverviewPage({ data }: { data: OverviewData }) {
  const invalid = data.workflows.filter((w) => !w.summary.valid).length;
  return (
    <>
      <div class="page-head">
        <h1>Workflows</h1>
        <p class="muted">
          {data.workflows.length} workflow{data.workflows.length === 1 ? '' : 's'}
          {invalid > 0 && (
            <>
              {' · '}
              <span class="text-failed">{invalid} with problems</span>
            </>
          )}
        </p>
        {data.git && <GitSyncLine git={data.git} commitUrl={data.commitUrl} now={data.now} />}
      </div>
      {data.workflows.length === 0 ? (
        <p class="empty">
          No workflow files yet. Add a YAML file to the workflows folder, or try one in the{' '}
          <a href="/playground">playground</a>.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="workflows stack">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Triggers</th>
                <th scope="col">Next schedule</th>
                <th scope="col">Last run</th>
                <th scope="col">History</th>
              </tr>
            </thead>
            <tbody>
              {data.workflows.map((w) => (
                <WorkflowRow summary={w.summary} history={w.history} now={data.now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section class="section">
        <div class="section-head">
          <h2>Recent runs</h2>
          <a href="/runs">All runs →</a>
        </div>
        <RunsTable runs={data.recent} now={data.now} />
      </section>
    </>
  );
}
