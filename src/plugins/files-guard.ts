import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { NonRetriableError } from '../errors.ts';

/** A path inside the files folder, checked against the confinement rules. */
export interface ConfinedPath {
  /** Normalized, relative to the files folder: what actions report back. */
  relative: string;
  /**
   * Absolute, with every symlink in its existing part resolved: open this one (with O_NOFOLLOW),
   * so a link checked here cannot be swapped for one that points elsewhere.
   */
  real: string;
}

/**
 * The lexical rules: relative, no `..` segment, no NUL byte, not empty, not the folder itself.
 * Returns the normalized form (`a//b/./c` → `a/b/c`).
 */
export function checkRelativePath(path: string): string {
  const refuse = (rule: string) => new NonRetriableError(`path ${JSON.stringify(path)} refused: ${rule}`);
  if (path.trim() === '') throw refuse('it is empty');
  if (path.includes('\0')) throw refuse('it contains a NUL byte');
  if (isAbsolute(path) || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) {
    throw refuse('it must be relative to the files folder, not absolute');
  }
  if (path.split(/[/\\]/).includes('..')) throw refuse('it must not contain a ".." segment');
  const normalized = posix.normalize(path.replaceAll('\\', '/')).replace(/\/+$/, '');
  if (normalized === '.' || normalized === '')
    throw refuse('it names the files folder itself, not a file in it');
  return normalized;
}

export interface ConfineOptions {
  /** Create the files folder when it is missing (writers; it is Baton's own folder). */
  createRoot?: boolean;
  /** Create the target's missing parent folders, then check the result again. */
  createDirs?: boolean;
}

/**
 * Resolves a user's path inside `filesDir`, refusing symlink escapes: the deepest part of the path
 * that exists (the target itself when it exists) must resolve, symlinks followed, inside the real
 * files folder. Every refusal is a NonRetriableError naming the path and the rule.
 */
export async function confinePath(
  filesDir: string,
  path: string,
  options: ConfineOptions = {},
): Promise<ConfinedPath> {
  const normalized = checkRelativePath(path);
  if (options.createRoot) await mkdir(filesDir, { recursive: true });
  const root = await realRoot(filesDir, path);
  let real = await resolveInside(root, join(root, normalized), path);
  if (options.createDirs) {
    const parent = dirname(real);
    try {
      await mkdir(parent, { recursive: true });
    } catch (err) {
      throw new NonRetriableError(`could not create the folder for ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // A symlink may have appeared while the folders were made: check the result once more.
    real = await resolveInside(root, join(root, normalized), path);
  }
  return { relative: normalized, real };
}

async function realRoot(filesDir: string, path: string): Promise<string> {
  try {
    return await realpath(filesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NonRetriableError(`file not found: ${path} (the files folder ${filesDir} does not exist)`, {
        cause: err,
      });
    }
    throw new NonRetriableError(`files folder ${filesDir} is not usable: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Real path of the target: its deepest existing ancestor resolved, the missing rest appended. */
async function resolveInside(root: string, target: string, path: string): Promise<string> {
  let existing = target;
  const missing: string[] = [];
  // lstat, not stat: a dangling symlink exists, and must not be mistaken for a missing name to create.
  while (existing !== root && !(await lstatOrUndefined(existing))) {
    missing.unshift(existing.slice(dirname(existing).length + 1));
    existing = dirname(existing);
  }
  let resolved: string;
  try {
    resolved = await realpath(existing);
  } catch (err) {
    throw new NonRetriableError(
      `path ${JSON.stringify(path)} refused: ${relative(root, existing)} is a symlink whose target does not exist`,
      { cause: err },
    );
  }
  if (resolved !== root && !resolved.startsWith(root + sep)) {
    throw new NonRetriableError(
      `path ${JSON.stringify(path)} refused: it leads outside the files folder through a symlink (${relative(root, existing)})`,
    );
  }
  return join(resolved, ...missing);
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new NonRetriableError(`could not inspect ${path}: ${(err as Error).message}`, { cause: err });
  }
}
