import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { z } from '@hono/zod-openapi';
import { Cron } from 'croner';
import type { Problem } from '../errors.ts';
import type { WorkflowEntry } from '../registry/types.ts';
import { defaultWorkflowName } from '../workflow/loader.ts';
import type { Workflow } from '../workflow/types.ts';
import type { ApiDeps } from './deps.ts';
import type { TriggerSummary, WorkflowSummary } from './schemas.ts';

/** How the API describes workflow files: the registry's entries, named, summarized, scheduled. */

export interface NamedEntry extends WorkflowEntry {
  name: string;
}

/** Every workflow file with a name (from `name:`, or its path for files too broken to say). */
export function namedEntries(deps: ApiDeps): NamedEntry[] {
  const root = resolve(deps.config.workflowsDir);
  const out: NamedEntry[] = deps.registry
    .entries()
    .map((entry) => ({ ...entry, name: entry.name ?? defaultWorkflowName(entry.file, root) }));
  const seen = new Set(out.map((e) => e.name));
  for (const [name, workflow] of deps.registry.workflows()) {
    if (!seen.has(name)) {
      out.push({ file: workflow.source.file, name, workflow, problems: [], loadedAt: new Date(0) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The entry for `name`: a file that loads wins over a broken one claiming the same name. */
export function findEntry(deps: ApiDeps, name: string): NamedEntry | undefined {
  const matches = namedEntries(deps).filter((e) => e.name === name);
  return matches.find((e) => e.workflow && e.problems.length === 0) ?? matches[0];
}

/** A path under the workflows folder is shown relative to it; anything else as it is. */
function displayPath(deps: ApiDeps, file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(resolve(deps.config.workflowsDir), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function nextRunAt(cron: string, timezone: string | undefined, now: Date): string | null {
  try {
    const job = new Cron(cron, { paused: true, ...(timezone ? { timezone } : {}) });
    const next = job.nextRun(now);
    job.stop();
    return next ? next.toISOString() : null;
  } catch {
    return null;
  }
}

function triggersOf(workflow: Workflow | undefined, now: Date): z.infer<typeof TriggerSummary> {
  const t = workflow?.triggers ?? {};
  const types: z.infer<typeof TriggerSummary>['types'] = [];
  if (t.webhook) types.push('webhook');
  if (t.schedule?.length) types.push('schedule');
  if (t.manual) types.push('manual');
  const hookPaths = workflow && t.webhook ? [`/hooks/${workflow.name}`] : [];
  if (t.webhook?.path && t.webhook.path !== workflow?.name) hookPaths.push(`/hooks/${t.webhook.path}`);
  return {
    types,
    webhook: t.webhook
      ? { verify: t.webhook.verify, paths: hookPaths, has_schema: t.webhook.schema !== undefined }
      : null,
    schedule: (t.schedule ?? []).map((s) => ({
      cron: s.cron,
      timezone: s.timezone ?? null,
      next_run_at: nextRunAt(s.cron, s.timezone, now),
    })),
    manual: t.manual ? { inputs: t.manual.inputs as Record<string, unknown> } : null,
  };
}

export function summarize(
  deps: ApiDeps,
  entry: NamedEntry,
  now = new Date(),
): z.infer<typeof WorkflowSummary> {
  const triggers = triggersOf(entry.workflow, now);
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
