import { relative, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { isWorkflowFileName } from '../workflow/loader.ts';
import { isActionFile } from './actions.ts';

export type ChangeKind = 'workflows' | 'actions';

export interface WatchOptions {
  workflowsDir: string;
  actionsDirs: readonly string[];
  onEvent(kind: ChangeKind, path: string): void;
  onError(err: unknown): void;
}

/** A path under `root` that listWorkflowFiles skips: inside a dot-folder or node_modules. */
function skippedSegment(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..')) return false;
  return rel.split(sep).some((s) => s.startsWith('.') || s === 'node_modules');
}

/**
 * Watches the workflows folder (recursively, YAML files) and the actions folders (their top
 * level, action files, as loadCatalogue reads them). Resolves once both watchers are ready.
 * chokidar's `atomic` (on by default) folds an editor's unlink+add into one change and ignores
 * swap and backup files; debouncing is the caller's.
 */
export async function watchSources(options: WatchOptions): Promise<{ close(): Promise<void> }> {
  const workflowsDir = resolve(options.workflowsDir);
  const workflows = watch(workflowsDir, {
    ignoreInitial: true,
    ignored: (path, stats) =>
      skippedSegment(workflowsDir, path) || (stats?.isFile() === true && !isWorkflowFileName(path)),
  });
  workflows.on('all', (event, path) => {
    if (event === 'addDir' || event === 'unlinkDir' || isWorkflowFileName(path)) {
      options.onEvent('workflows', path);
    }
  });

  const actionsDirs = [...new Set(options.actionsDirs.map((d) => resolve(d)))];
  const watchers: FSWatcher[] = [workflows];
  if (actionsDirs.length > 0) {
    const actions = watch(actionsDirs, {
      ignoreInitial: true,
      depth: 0,
      ignored: (path, stats) => stats?.isFile() === true && !isActionFile(path),
    });
    actions.on('all', (event, path) => {
      if ((event === 'add' || event === 'change' || event === 'unlink') && isActionFile(path)) {
        options.onEvent('actions', path);
      }
    });
    watchers.push(actions);
  }
  for (const w of watchers) w.on('error', options.onError);
  await Promise.all(watchers.map((w) => new Promise<void>((ready) => w.once('ready', ready))));
  return {
    async close() {
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
}
