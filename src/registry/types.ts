import type { Problem } from '../errors.ts';
import type { ActionLoadProblem, Catalogue } from '../plugins/catalogue.ts';
import type { Workflow } from '../workflow/types.ts';

/** One workflow file as the registry last saw it. */
export interface WorkflowEntry {
  /** Absolute path of the file. */
  file: string;
  /** The workflow's name (from `name:` or the path); undefined when the file could not be read that far. */
  name?: string;
  /** The current good definition: the file's, or the last good one when the file is broken now. */
  workflow?: Workflow;
  /** Problems of the file as it is on disk now (empty when it loads). */
  problems: Problem[];
  /** When the file was last (re)loaded. */
  loadedAt: Date;
}

/** What the server reads from the registry; the registry keeps it current as files change. */
export interface RegistryView {
  /** Good definitions by workflow name. */
  workflows(): ReadonlyMap<string, Workflow>;
  /** Every workflow file, good or broken. */
  entries(): WorkflowEntry[];
  catalogue(): Catalogue;
  actionProblems(): ActionLoadProblem[];
  /** Called (debounced) after files were reloaded; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}
