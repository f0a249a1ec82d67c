import { ConflictError, NotFoundError } from '../errors.ts';
import { pauseSchedules, resumeSchedules } from '../store/triggers.ts';
import type { ApiDeps } from './deps.ts';
import { findEntry } from './workflow-view.ts';

export interface ScheduleStateChange {
  workflow: string;
  paused: boolean;
  /** False when it already was in that state. */
  changed: boolean;
}

/**
 * Pauses or resumes every schedule of a workflow; 404 for an unknown name, 409 for one without
 * `on.schedule`. Shared by the API and the pages.
 */
export async function setSchedulesPaused(
  deps: ApiDeps,
  name: string,
  pause: boolean,
): Promise<ScheduleStateChange> {
  const entry = findEntry(deps, name);
  if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
  if (!entry.workflow?.triggers.schedule?.length) {
    throw new ConflictError(`workflow "${name}" has no on.schedule to ${pause ? 'pause' : 'resume'}`);
  }
  const changed = pause ? await pauseSchedules(deps.db, name) : await resumeSchedules(deps.db, name);
  return { workflow: name, paused: pause, changed };
}
