import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyAction } from './define-action.ts';

/** Baton's own actions, always loaded. */
export const BUILTIN_ACTIONS_DIR = resolve(import.meta.dirname, '../../actions');

let generation = 0;

const ACTION_FILE = /\.(ts|js|mjs)$/;
const IGNORED_FILE = /(\.test|\.spec|\.d)\.(ts|js|mjs)$/;

export interface ActionLoadProblem {
  file: string;
  message: string;
}

export interface Catalogue {
  actions: Map<string, AnyAction>;
  /** Files that failed to load; each is a warning, never a crash. */
  problems: ActionLoadProblem[];
}

/** The id of an action is its file name without the extension: `actions/http.request.ts` → `http.request`. */
export function actionIdFromFile(file: string): string {
  return basename(file, extname(file));
}

/**
 * Loads every action file from the given folders, built-ins first; a later folder may not
 * replace a built-in. `fresh` busts the module cache so edited files reload.
 */
export async function loadCatalogue(
  dirs: string[] = [],
  options: { fresh?: boolean } = {},
): Promise<Catalogue> {
  const catalogue: Catalogue = { actions: new Map(), problems: [] };
  const seen = new Set<string>();
  for (const dir of [BUILTIN_ACTIONS_DIR, ...dirs].map((d) => resolve(d))) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    if (!existsSync(dir)) {
      if (dir !== BUILTIN_ACTIONS_DIR)
        catalogue.problems.push({ file: dir, message: 'actions folder does not exist' });
      continue;
    }
    const files = readdirSync(dir)
      .filter((f) => ACTION_FILE.test(f) && !IGNORED_FILE.test(f))
      .sort();
    for (const name of files) {
      const file = join(dir, name);
      const result = await loadActionFile(file, options.fresh ?? false);
      if ('problem' in result) {
        catalogue.problems.push({ file, message: result.problem });
        continue;
      }
      const id = actionIdFromFile(file);
      if (catalogue.actions.has(id)) {
        catalogue.problems.push({
          file,
          message: `action "${id}" is already defined by an earlier file; this one is ignored`,
        });
        continue;
      }
      catalogue.actions.set(id, result.action);
    }
  }
  return catalogue;
}

export async function loadActionFile(
  file: string,
  fresh: boolean,
): Promise<{ action: AnyAction } | { problem: string }> {
  const id = actionIdFromFile(file);
  let mod: { default?: unknown };
  try {
    // Bun caches a file: URL by its path whatever the query; a plain path with a query is a new
    // module. The counter keeps two reloads in one millisecond apart.
    const url =
      fresh && process.platform !== 'win32' ? `${file}?v=${++generation}` : pathToFileURL(file).href;
    mod = await import(url);
  } catch (err) {
    return { problem: `could not be loaded: ${(err as Error).message}` };
  }
  const action = mod.default as Partial<AnyAction> | undefined;
  if (!action || typeof action !== 'object' || typeof action.run !== 'function') {
    return {
      problem: 'has no default export made with defineAction({ name, description, input, output, run })',
    };
  }
  if (!isSchema(action.input) || !isSchema(action.output)) {
    return { problem: 'defineAction needs zod schemas for both `input` and `output`' };
  }
  if (action.name !== id) {
    return {
      problem: `declares name "${String(action.name)}" but its file makes it "${id}"; rename one to match`,
    };
  }
  return { action: action as AnyAction };
}

function isSchema(value: unknown): boolean {
  return typeof (value as { safeParse?: unknown } | undefined)?.safeParse === 'function';
}
