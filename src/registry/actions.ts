import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  type ActionLoadProblem,
  actionIdFromFile,
  BUILTIN_ACTIONS_DIR,
  type Catalogue,
} from '../plugins/catalogue.ts';

// The same files loadCatalogue reads.
const ACTION_FILE = /\.(ts|js|mjs)$/;
const IGNORED_FILE = /(\.test|\.spec|\.d)\.(ts|js|mjs)$/;

export function isActionFile(path: string): boolean {
  const name = basename(path);
  return ACTION_FILE.test(name) && !IGNORED_FILE.test(name) && !name.startsWith('.');
}

/**
 * The new catalogue, except that an action whose file still exists but no longer loads keeps
 * its previous good definition (its problem is still reported).
 */
export function keepLastGoodActions(previous: Catalogue | undefined, next: Catalogue): Catalogue {
  if (!previous) return next;
  const actions = new Map(next.actions);
  for (const problem of next.problems) {
    if (!isExistingFile(problem.file)) continue;
    const id = actionIdFromFile(problem.file);
    const good = previous.actions.get(id);
    if (good && !actions.has(id)) actions.set(id, good);
  }
  return { actions, problems: next.problems };
}

function isExistingFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What a reload should log: problems that are new, or of files that changed (once per change). */
export function actionProblemsToLog(
  before: readonly ActionLoadProblem[],
  after: readonly ActionLoadProblem[],
  changed: ReadonlySet<string>,
): ActionLoadProblem[] {
  const seen = new Set(before.map((p) => `${p.file}\n${p.message}`));
  return after.filter((p) => changed.has(p.file) || !seen.has(`${p.file}\n${p.message}`));
}

/** Names, sizes and mtimes of the action files: whether anything changed while nobody watched. */
export function actionFingerprint(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of new Set([BUILTIN_ACTIONS_DIR, ...dirs].map((d) => resolve(d)))) {
    let names: string[];
    try {
      names = readdirSync(dir).filter(isActionFile).sort();
    } catch {
      parts.push(`${dir}:missing`);
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      try {
        const s = statSync(file);
        parts.push(`${file}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${file}:gone`);
      }
    }
  }
  return parts.join('\n');
}
