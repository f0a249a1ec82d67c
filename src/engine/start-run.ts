import type { Queue } from '../queue/queue.ts';
import type { Db } from '../store/db.ts';
import { createRunBatched } from '../store/run-inserts.ts';
import type { RunRow } from '../store/schema.ts';
import { versionIdFor } from '../store/versions.ts';
import { uuidv7 } from '../util/ids.ts';
import { checkInputs } from '../workflow/inputs.ts';
import type { Workflow } from '../workflow/types.ts';
import type { TriggerData } from './types.ts';

export interface StartRunDeps {
  db: Db;
  queue: Queue;
  /** Told when the enqueue after the commit fails; the reconciler will enqueue the run later. */
  onEnqueueError?: (runId: string, err: unknown) => void;
}

export interface StartRunRequest {
  workflow: Workflow;
  trigger: TriggerData;
  idempotencyKey?: string;
  parentRunId?: string;
  gitCommit?: string;
}

/**
 * The only way a run starts, whatever triggered it: check inputs, pin the workflow version,
 * commit the run, then enqueue it. A repeated idempotency key returns the first run.
 */
export async function startRun(
  deps: StartRunDeps,
  request: StartRunRequest,
): Promise<{ run: RunRow; created: boolean }> {
  const { workflow } = request;
  // Declared inputs belong to runs started by hand (API, CLI, pages) and schedules; a webhook
  // brings its data as `trigger.body` instead.
  const byHand = request.trigger.type !== 'webhook' && request.trigger.type !== 'poll';
  const trigger: TriggerData = byHand
    ? { ...request.trigger, inputs: checkInputs(workflow, request.trigger.inputs) }
    : { ...request.trigger, inputs: request.trigger.inputs ?? {} };
  const versionId = await versionIdFor(deps.db, workflow, {
    text: workflow.source.text,
    path: workflow.source.file,
    ...(request.gitCommit ? { gitCommit: request.gitCommit } : {}),
  });
  const result = await createRunBatched(deps.db, {
    id: uuidv7(),
    workflow: workflow.name,
    versionId,
    triggerType: trigger.type,
    trigger,
    ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
    ...(request.parentRunId ? { parentRunId: request.parentRunId } : {}),
  });
  if (result.created) {
    // Not awaited: the commit is what the caller is promised. The run is committed with
    // enqueued_at set, so a lost enqueue only delays it until the reconciler's grace time.
    const runId = result.run.id;
    deps.queue.enqueue(runId).catch((err: unknown) => deps.onEnqueueError?.(runId, err));
  }
  return result;
}
