import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { Problem } from '../errors.ts';
import type { Catalogue } from '../plugins/catalogue.ts';
import {
  defaultWorkflowName,
  type LoadResult,
  listWorkflowFiles,
  loadWorkflowText,
} from '../workflow/loader.ts';
import { DocumentPositions } from '../workflow/positions.ts';
import type { Workflow } from '../workflow/types.ts';
import type { WorkflowEntry } from './types.ts';

/** One workflow file as last read: its own load result plus the last definition that loaded. */
export interface FileState {
  file: string;
  /** The text as read; `undefined` when the file could not be read (the problem says why). */
  text: string | undefined;
  result: LoadResult;
  /** The file's newest good definition, kept while the file is broken. */
  lastGood?: Workflow;
  /** The name the file declares now (or its path makes), else the last good one's. */
  name?: string;
  loadedAt: Date;
}

/** Every workflow file's text by path; a missing folder is empty, a file gone meanwhile is left out. */
export function readWorkflowTexts(dir: string): Map<string, string | Error> {
  const texts = new Map<string, string | Error>();
  let files: string[];
  try {
    files = listWorkflowFiles(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return texts;
    throw err;
  }
  for (const file of files) {
    try {
      texts.set(file, readFileSync(file, 'utf8'));
    } catch (err) {
      // Deleted between the listing and the read: the next event brings it up to date.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') texts.set(file, err as Error);
    }
  }
  return texts;
}

/** Loads one file's text against the catalogue, carrying the last good definition forward. */
export function loadFileState(
  file: string,
  text: string | Error,
  root: string,
  catalogue: Catalogue,
  previous?: FileState,
): FileState {
  const defaultName = defaultWorkflowName(file, root);
  const result: LoadResult =
    typeof text === 'string'
      ? loadWorkflowText(text, { file, defaultName, catalogue })
      : { problems: [{ file, line: 1, column: 1, message: `cannot read the file: ${text.message}` }] };
  const lastGood = result.workflow ?? previous?.lastGood;
  const state: FileState = {
    file,
    text: typeof text === 'string' ? text : undefined,
    result,
    loadedAt: new Date(),
  };
  if (lastGood) state.lastGood = lastGood;
  const name =
    result.workflow?.name ??
    (typeof text === 'string' ? declaredName(text, defaultName) : undefined) ??
    lastGood?.name;
  if (name !== undefined) state.name = name;
  return state;
}

/** The `name:` of a file that may not load, or the path's name when it has none. */
function declaredName(text: string, defaultName: string): string | undefined {
  try {
    const doc = parseDocument(text);
    const contents = doc.toJS() as unknown;
    if (contents === null || typeof contents !== 'object' || Array.isArray(contents)) return undefined;
    const name = (contents as { name?: unknown }).name;
    if (name === undefined) return defaultName;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

export interface RegistryState {
  entries: WorkflowEntry[];
  workflows: Map<string, Workflow>;
}

/**
 * The served view of the files: in path order, each file offers its last good definition; a
 * name already taken by an earlier file is refused with the loader's duplicate problem.
 */
export function resolveNames(states: Iterable<FileState>): RegistryState {
  const workflows = new Map<string, Workflow>();
  const firstFile = new Map<string, string>();
  const entries: WorkflowEntry[] = [];
  for (const state of [...states].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const entry: WorkflowEntry = {
      file: state.file,
      problems: state.result.problems,
      loadedAt: state.loadedAt,
    };
    if (state.name !== undefined) entry.name = state.name;
    const candidate = state.lastGood;
    if (candidate) {
      const first = firstFile.get(candidate.name);
      if (first === undefined) {
        firstFile.set(candidate.name, state.file);
        workflows.set(candidate.name, candidate);
        entry.workflow = candidate;
      } else {
        entry.problems = [...entry.problems, duplicateProblem(state, candidate.name, first)];
      }
    }
    entries.push(entry);
  }
  return { entries, workflows };
}

function duplicateProblem(state: FileState, name: string, first: string): Problem {
  const message = `workflow name "${name}" is already used by ${first}; names must be unique`;
  const text = state.text ?? '';
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter });
    if (doc.has('name')) {
      const at = new DocumentPositions(doc, lineCounter, text).value(['name']);
      return { file: state.file, ...at, path: 'name', message };
    }
  } catch {
    // fall through to the top of the file
  }
  return { file: state.file, line: 1, column: 1, message };
}

/** A stable key of a problem list, to tell whether an entry's problems changed. */
export function problemsKey(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.line}:${p.column}:${p.message}`).join('\n');
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}
