/** @jsxImportSource hono/jsx */
import { z } from 'zod';
import { RUN_STATUSES, TRIGGER_TYPES } from '../../src/api/schemas.ts';
import { namedEntries } from '../../src/api/workflow-view.ts';
import { ValidationError } from '../../src/errors.ts';
import { listRuns, type RunFilters } from '../../src/store/run-queries.ts';
import type { RunRow } from '../../src/store/schema.ts';
import { RunRowView, RunsTableHead } from '../components/runs-table.tsx';
import { statusLabel } from '../components/status.tsx';
import type { PageDeps } from '../render.tsx';

export const PAGE_SIZE = 50;

const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
const RANGE_LABELS: Record<keyof typeof RANGES, string> = {
  '1h': 'last hour',
  '24h': 'last 24 hours',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
};

/** A form's "any" is an empty string: the same as leaving the parameter out. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());
const day = z.iso.date({ error: 'must be a date like 2025-01-31' });

/** The runs page's query: every filter lives in the URL, so a filtered list can be shared. */
export const RunsQuery = z.object({
  workflow: optional(z.string().min(1).max(500)),
  status: optional(z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` })),
  trigger: optional(z.enum(TRIGGER_TYPES, { error: `must be one of ${TRIGGER_TYPES.join(', ')}` })),
  range: optional(
    z.enum(Object.keys(RANGES) as [keyof typeof RANGES], { error: 'must be 1h, 24h, 7d or 30d' }),
  ),
  from: optional(day),
  to: optional(day),
  cursor: optional(z.string().max(500)),
});
export type RunsQuery = z.infer<typeof RunsQuery>;

export function parseRunsQuery(query: Record<string, string>): RunsQuery {
  const parsed = RunsQuery.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ValidationError(`filter "${issue?.path.join('.')}" ${issue?.message ?? 'is invalid'}`);
}

/** The URL of these filters (and cursor), without empty parameters. */
export function runsUrl(q: RunsQuery, cursor?: string): string {
  const params = new URLSearchParams();
  for (const key of ['workflow', 'status', 'trigger', 'range', 'from', 'to'] as const) {
    const value = q[key];
    if (value) params.set(key, value);
  }
  if (cursor) params.set('cursor', cursor);
  const text = params.toString();
  return text ? `/runs?${text}` : '/runs';
}

function filtersOf(q: RunsQuery, now: Date): RunFilters {
  const filters: RunFilters = {};
  if (q.workflow) filters.workflow = q.workflow;
  if (q.status) filters.statuses = [q.status];
  if (q.trigger) filters.triggerTypes = [q.trigger];
  const after = [
    q.range ? new Date(now.getTime() - RANGES[q.range]) : undefined,
    q.from ? new Date(`${q.from}T00:00:00Z`) : undefined,
  ]
    .filter((d): d is Date => d !== undefined)
    .sort((a, b) => b.getTime() - a.getTime())[0];
  if (after) filters.createdAfter = after;
  // `to` is a whole day: runs created on it are included.
  if (q.to) filters.createdBefore = new Date(new Date(`${q.to}T00:00:00Z`).getTime() + 86_400_000);
  return filters;
}

export interface RunsData {
  now: Date;
  query: RunsQuery;
  runs: RunRow[];
  nextCursor: string | null;
  workflows: string[];
}

export async function loadRuns(deps: PageDeps, query: RunsQuery): Promise<RunsData> {
  const now = new Date();
  const page = await listRuns(deps.db, filtersOf(query, now), {
    limit: PAGE_SIZE,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  const workflows = [...new Set(namedEntries(deps).map((e) => e.name))];
  return { now, query, runs: page.runs, nextCursor: page.nextCursor, workflows };
}

function Select({
  name,
  label,
  value,
  options,
}: {
  name: string;
  label: string;
  value: string | undefined;
  options: [string, string][];
}) {
  return (
    <div class="field">
      <label for={`f-${name}`}>{label}</label>
      <select id={`f-${name}`} name={name}>
        <option value="">any</option>
        {options.map(([v, text]) => (
          <option value={v} selected={v === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

function Filters({ data }: { data: RunsData }) {
  const q = data.query;
  const workflows =
    q.workflow && !data.workflows.includes(q.workflow) ? [...data.workflows, q.workflow] : data.workflows;
  return (
    <form
      id="run-filters"
      class="filters"
      method="get"
      action="/runs"
      hx-get="/runs"
      hx-target="#runs-results"
      hx-swap="outerHTML"
      hx-trigger="change, submit"
      aria-label="Filter runs"
    >
      <Select name="workflow" label="Workflow" value={q.workflow} options={workflows.map((w) => [w, w])} />
      <Select
        name="status"
        label="Status"
        value={q.status}
        options={RUN_STATUSES.map((s) => [s, statusLabel(s)])}
      />
      <Select name="trigger" label="Trigger" value={q.trigger} options={TRIGGER_TYPES.map((t) => [t, t])} />
      <Select
        name="range"
        label="Created"
        value={q.range}
        options={Object.entries(RANGE_LABELS) as [string, string][]}
      />
      <div class="field">
        <label for="f-from">From (UTC)</label>
        <input id="f-from" type="date" name="from" value={q.from} />
      </div>
      <div class="field">
        <label for="f-to">To (UTC)</label>
        <input id="f-to" type="date" name="to" value={q.to} />
      </div>
      <div class="field field-buttons">
        <noscript>
          <button type="submit" class="btn">
            Apply
          </button>
        </noscript>
        <a class="btn btn-quiet" href="/runs">
          Clear
        </a>
      </div>
    </form>
  );
}

/** The rows of one page and, when there are more, the row that loads the next page in its place. */
export function RunRows({ data }: { data: RunsData }) {
  const next = data.nextCursor ? runsUrl(data.query, data.nextCursor) : undefined;
  return (
    <>
      {data.runs.map((r) => (
        <RunRowView run={r} now={data.now} />
      ))}
      {next && (
        <tr class="load-more">
          <td colspan={6}>
            <a class="btn" href={next} hx-get={next} hx-target="closest tr" hx-swap="outerHTML">
              Load more
            </a>
            <span class="htmx-indicator muted"> loading…</span>
          </td>
        </tr>
      )}
    </>
  );
}

export function RunsResults({ data }: { data: RunsData }) {
  const filtered = runsUrl({ ...data.query, cursor: undefined }) !== '/runs';
  return (
    <div id="runs-results">
      {data.runs.length === 0 ? (
        <p class="empty">{filtered ? 'No runs match these filters.' : 'No runs yet.'}</p>
      ) : (
        <div class="table-wrap">
          <table class="runs stack">
            <RunsTableHead />
            <tbody id="runs-body">
              <RunRows data={data} />
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function RunsPage({ data }: { data: RunsData }) {
  return (
    <>
      <div class="page-head">
        <h1>Runs</h1>
        <p class="muted">Newest first. Filters are kept in the address, so a filtered list can be shared.</p>
      </div>
      <Filters data={data} />
      <RunsResults data={data} />
    </>
  );
}
