/** @jsxImportSource hono/jsx */
import type { z } from '@hono/zod-openapi';
import type { WorkflowSummary } from '../../src/api/schemas.ts';
import {
  findEntry,
  loadTriggerState,
  type NamedEntry,
  sourceOf,
  summarize,
} from '../../src/api/workflow-view.ts';
import { NotFoundError } from '../../src/errors.ts';
import { listRuns, listVersions } from '../../src/store/run-queries.ts';
import type { RunRow } from '../../src/store/schema.ts';
import { Commit } from '../components/commit.tsx';
import { DagSvg, graphOf } from '../components/dag.tsx';
import { ProblemList } from '../components/problems.tsx';
import { RunForm } from '../components/run-form.tsx';
import { RunsTable } from '../components/runs-table.tsx';
import { PollerSection, PollState, SchedulesSection } from '../components/schedules.tsx';
import { formatDuration, Time } from '../components/time.tsx';
import { type PageDeps, redactorFor } from '../render.tsx';
import { maskPollError } from '../schedule.ts';
import { TriggerTags } from './overview.tsx';

type Summary = z.infer<typeof WorkflowSummary>;
type Version = Awaited<ReturnType<typeof listVersions>>[number];

const RUNS = 20;

export interface WorkflowData {
  now: Date;
  entry: NamedEntry;
  summary: Summary;
  source: string | null;
  versions: Version[];
  runs: RunRow[];
  commitUrl: string | undefined;
}

export async function loadWorkflow(deps: PageDeps, name: string): Promise<WorkflowData> {
  const entry = findEntry(deps, name);
  if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
  const [{ summary, now }, source, versions, runs] = await Promise.all([
    loadSummary(deps, entry),
    sourceOf(entry),
    listVersions(deps.db, entry.name),
    listRuns(deps.db, { workflow: entry.name }, { limit: RUNS }),
  ]);
  return { now, entry, summary, source, versions, runs: runs.runs, commitUrl: deps.config.gitCommitUrl };
}

/** The summary with the database's trigger state (pause, poller), as the API gives it. */
export async function loadSummary(
  deps: PageDeps,
  entry: NamedEntry,
): Promise<{ summary: Summary; now: Date }> {
  const state = await loadTriggerState(deps.db);
  const now = new Date();
  return { summary: maskPollError(summarize(deps, entry, now, state), await redactorFor(deps)), now };
}

export const shortHash = (hash: string) => hash.slice(0, 12);

/** The file with line numbers; lines with a problem are marked and can be linked to (#L12). */
function Source({ text, problems }: { text: string; problems: Summary['problems'] }) {
  const bad = new Map<number, string>();
  for (const p of problems) if (!bad.has(p.line)) bad.set(p.line, p.message);
  const lines = text.replace(/\n$/, '').split('\n');
  return (
    <pre class="source">
      {lines.map((line, i) => {
        const n = i + 1;
        const problem = bad.get(n);
        return (
          <span id={`L${n}`} class={problem ? 'line has-problem' : 'line'} title={problem}>
            <span class="ln" aria-hidden="true">
              {n}
            </span>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}

function Triggers({ summary, entry }: { summary: Summary; entry: NamedEntry }) {
  const t = summary.triggers;
  const workflow = entry.workflow;
  return (
    <dl class="facts">
      {workflow && (
        <>
          <dt>Tasks</dt>
          <dd>{workflow.tasks.length}</dd>
          {workflow.timeoutMs !== undefined && (
            <>
              <dt>Timeout</dt>
              <dd>{formatDuration(workflow.timeoutMs)}</dd>
            </>
          )}
          {workflow.concurrency && (
            <>
              <dt>Concurrency</dt>
              <dd>
                {workflow.concurrency.limit} at a time, then {workflow.concurrency.onLimit.replace('_', ' ')}
              </dd>
            </>
          )}
        </>
      )}
      <dt>Triggers</dt>
      <dd>
        <TriggerTags summary={summary} />
      </dd>
      {t.webhook && (
        <>
          <dt>Webhook</dt>
          <dd>
            {t.webhook.paths.map((p) => (
              <code class="block">POST {p}</code>
            ))}
            <span class="muted small">verified with {t.webhook.verify}</span>
          </dd>
        </>
      )}
      {t.schedule.length > 0 && (
        <>
          <dt>Schedule</dt>
          <dd>
            <a href="#schedules">
              {t.schedule.length} entr{t.schedule.length === 1 ? 'y' : 'ies'}
            </a>
          </dd>
        </>
      )}
      {t.poll && (
        <>
          <dt>Poll</dt>
          <dd>
            <a href="#poller">every {formatDuration(t.poll.interval_ms)}</a> <PollState poll={t.poll} />
          </dd>
        </>
      )}
    </dl>
  );
}

function Versions({
  versions,
  now,
  commitUrl,
}: {
  versions: Version[];
  now: Date;
  commitUrl: string | undefined;
}) {
  if (versions.length === 0) return <p class="empty">No stored versions yet.</p>;
  return (
    <div class="table-wrap">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Content hash</th>
            <th scope="col">Git commit</th>
            <th scope="col">First seen</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v, i) => (
            <tr>
              <td data-label="Content hash">
                <code title={v.hash}>{shortHash(v.hash)}</code>
                {i === 0 && <span class="tag"> latest</span>}
              </td>
              <td data-label="Git commit">
                {v.gitCommit ? (
                  <Commit sha={v.gitCommit} urlTemplate={commitUrl} />
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td data-label="First seen">
                <Time at={v.createdAt} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function WorkflowPage({ data }: { data: WorkflowData }) {
  const { summary, entry, now } = data;
  const workflow = entry.workflow;
  const current = data.versions.find((v) => v.hash === summary.version);
  const graph = workflow ? graphOf(workflow.tasks) : undefined;
  const runsLink = `/runs?workflow=${encodeURIComponent(summary.name)}`;
  return (
    <>
      <div class="page-head">
        <p class="crumbs">
          <a href="/">Workflows</a> /
        </p>
        <h1>{summary.name}</h1>
        {summary.description && <p class="lede">{summary.description}</p>}
        <p class="meta">
          <code>{summary.file}</code>
          {summary.version && (
            <span>
              {' '}
              · version <code title={summary.version}>{shortHash(summary.version)}</code>
            </span>
          )}
          {current?.gitCommit && (
            <span>
              {' '}
              · commit <Commit sha={current.gitCommit} urlTemplate={data.commitUrl} />
            </span>
          )}
          {' · '}
          <a href={`/playground?workflow=${encodeURIComponent(summary.name)}`}>Edit in playground</a>
        </p>
      </div>
      {!summary.valid && (
        <div class="alert alert-error" role="alert">
          <strong>
            <span aria-hidden="true">✕ </span>This file has {summary.problems.length} problem
            {summary.problems.length === 1 ? '' : 's'}; it cannot start runs until they are fixed.
          </strong>
          <ProblemList problems={summary.problems} />
          {workflow && <p class="small">The graph below is the last version that loaded.</p>}
        </div>
      )}
      <div class="grid-2">
        <section class="card">
          <h2>About</h2>
          <Triggers summary={summary} entry={entry} />
        </section>
        {summary.valid && workflow ? (
          <RunForm name={summary.name} inputs={workflow.triggers.manual?.inputs} />
        ) : (
          <section class="card">
            <h2>Run</h2>
            <p class="muted">Fix the problems in the file to start runs.</p>
          </section>
        )}
      </div>
      {summary.triggers.schedule.length > 0 && <SchedulesSection summary={summary} now={now} />}
      {summary.triggers.poll && <PollerSection poll={summary.triggers.poll} now={now} />}
      {graph && (
        <section class="section">
          <h2>Graph</h2>
          <DagSvg nodes={graph.nodes} edges={graph.edges} id="workflow-dag" />
        </section>
      )}
      <section class="section">
        <div class="section-head">
          <h2>Runs</h2>
          <a href={runsLink}>Filter all runs →</a>
        </div>
        <RunsTable runs={data.runs} now={now} showWorkflow={false} />
      </section>
      <section class="section">
        <h2>Source</h2>
        {data.source === null ? (
          <p class="empty">The file cannot be read.</p>
        ) : (
          <Source text={data.source} problems={summary.problems} />
        )}
      </section>
      <section class="section">
        <h2>Versions</h2>
        <Versions versions={data.versions} now={now} commitUrl={data.commitUrl} />
      </section>
    </>
  );
}
