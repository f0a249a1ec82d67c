import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { z } from '@hono/zod-openapi';
import type { Problem } from '../errors.ts';
import type { WorkflowEntry } from '../registry/types.ts';
import type { Db } from '../store/db.ts';
import type { PollerRow } from '../store/schema.ts';
import { pausedWorkflows, pollerStates } from '../store/triggers.ts';
import { nextTimes } from '../triggers/schedule-times.ts';
import { defaultWorkflowName } from '../workflow/loader.ts';
import type { Workflow } from '../workflow/types.ts';
import type { ApiDeps } from './deps.ts';
import type { PollStatus, TriggerSummary, WorkflowSummary } from './schemas.ts';

/** How the API describes workflow files: the registry's entries, named, summarized, scheduled. */

export interface NamedEntry extends WorkflowEntry {
  name: string;
}

/** Every workflow file with a name (from `name:`, or its path for files too broken to say). */
export function namedEntries(deps: ApiDeps): NamedEntry[] {
  const root = resolve(deps.config.workflowsDir);
  const out: NamedEntry[] = deps.registry.entries().map((entry) => ({ ...entry, name: nameOf(entry, root) }));
  const seen = new Set(out.map((e) => e.name));
  for (const [name, workflow] of deps.registry.workflows()) {
    if (!seen.has(name)) out.push(fileless(name, workflow));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const nameOf = (entry: WorkflowEntry, root: string) => entry.name ?? defaultWorkflowName(entry.file, root);

/** A workflow the registry holds without a file entry of its own. */
const fileless = (name: string, workflow: Workflow): NamedEntry => ({
  file: workflow.source.file,
  name,
  workflow,
  problems: [],
  loadedAt: new Date(0),
});

/**
 * The entry for `name`: a file that loads wins over a broken one claiming the same name. The same
 * answer as searching namedEntries, without naming, copying and sorting every file for each trigger.
 */
export function findEntry(deps: ApiDeps, name: string): NamedEntry | undefined {
  const root = resolve(deps.config.workflowsDir);
  let first: NamedEntry | undefined;
  for (const entry of deps.registry.entries()) {
    if (nameOf(entry, root) !== name) continue;
    const named = { ...entry, name };
    if (entry.workflow && entry.problems.length === 0) return named;
    first ??= named;
  }
  if (first) return first;
  const workflow = deps.registry.workflows().get(name);
  return workflow ? fileless(name, workflow) : undefined;
}

/** A path under the workflows folder is shown relative to it; anything else as it is. */
function displayPath(deps: ApiDeps, file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(resolve(deps.config.workflowsDir), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** What the database knows about a workflow's triggers: pause flags and poller rows. */
export interface TriggerState {
  paused: ReadonlyMap<string, Date>;
  pollers: ReadonlyMap<string, PollerRow>;
}

const NO_STATE: TriggerState = { paused: new Map(), pollers: new Map() };

export async function loadTriggerState(db: Db): Promise<TriggerState> {
  const [paused, pollers] = await Promise.all([pausedWorkflows(db), pollerStates(db)]);
  return { paused, pollers };
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function pollStatus(row: PollerRow | undefined, now: Date): z.infer<typeof PollStatus> | null {
  if (!row) return null;
  return {
    primed: row.primed,
    last_polled_at: iso(row.lastPolledAt),
    last_success_at: iso(row.lastSuccessAt),
    next_poll_at: iso(row.nextPollAt),
    failures: row.failures,
    last_error: row.lastError,
    last_new_items: row.lastNewItems,
    leased: row.leaseOwner !== null && (row.leaseExpiresAt?.getTime() ?? 0) > now.getTime(),
  };
}

function triggersOf(
  workflow: Workflow | undefined,
  now: Date,
  state: TriggerState,
): z.infer<typeof TriggerSummary> {
  const t = workflow?.triggers ?? {};
  const types: z.infer<typeof TriggerSummary>['types'] = [];
  if (t.webhook) types.push('webhook');
  if (t.schedule?.length) types.push('schedule');
  if (t.poll) types.push('poll');
  if (t.manual) types.push('manual');
  const hookPaths = workflow && t.webhook ? [`/hooks/${workflow.name}`] : [];
  if (t.webhook?.path && t.webhook.path !== workflow?.name) hookPaths.push(`/hooks/${t.webhook.path}`);
  const paused = workflow ? state.paused.has(workflow.name) : false;
  return {
    types,
    webhook: t.webhook
      ? { verify: t.webhook.verify, paths: hookPaths, has_schema: t.webhook.schema !== undefined }
      : null,
    schedule: (t.schedule ?? []).map((s) => {
      const next = paused ? [] : nextTimes(s, now, 3).map((d) => d.toISOString());
      return {
        id: s.id,
        cron: s.cron,
        timezone: s.timezone,
        overlap: s.overlap,
        catchup: s.catchup,
        catchup_limit: s.catchupLimit,
        next_run_at: next[0] ?? null,
        next_runs: next,
      };
    }),
    schedule_paused: paused,
    poll:
      t.poll && workflow
        ? {
            action: t.poll.action,
            interval_ms: t.poll.intervalMs,
            items: t.poll.items,
            key: t.poll.key,
            fire_existing: t.poll.fireExisting,
            status: pollStatus(state.pollers.get(workflow.name), now),
          }
        : null,
    manual: t.manual ? { inputs: t.manual.inputs as Record<string, unknown> } : null,
  };
}

export function summarize(
  deps: ApiDeps,
  entry: NamedEntry,
  now = new Date(),
  state: TriggerState = NO_STATE,
): z.infer<typeof WorkflowSummary> {
  const triggers = triggersOf(entry.workflow, now, state);
  const times = triggers.schedule.map((s) => s.next_run_at).filter((t): t is string => t !== null);
  times.sort();
  return {
    name: entry.name,
    description: entry.workflow?.description ?? null,
    file: displayPath(deps, entry.file),
    valid: entry.problems.length === 0 && entry.workflow !== undefined,
    problems: entry.problems.map((p: Problem) => ({ ...p, file: displayPath(deps, p.file) })),
    version: entry.workflow?.source.hash ?? null,
    triggers,
    next_run_at: times[0] ?? null,
  };
}

/** The normalized definition without the source text (served separately as `source`). */
export function definitionOf(workflow: Workflow | undefined): Record<string, unknown> | null {
  if (!workflow) return null;
  const { text: _, ...source } = workflow.source;
  return { ...workflow, source } as unknown as Record<string, unknown>;
}

/** The file as it is on disk now; the last good text when it cannot be read. */
export async function sourceOf(entry: NamedEntry): Promise<string | null> {
  try {
    return await readFile(entry.file, 'utf8');
  } catch {
    return entry.workflow?.source.text ?? null;
  }
}
