import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../../src/api/deps.ts';
import { findEntry, namedEntries } from '../../../src/api/workflow-view.ts';
import type { WorkflowEntry } from '../../../src/registry/types.ts';
import type { Workflow } from '../../../src/workflow/types.ts';
import { makeWorkflow } from '../../helpers/workflow.ts';

const ROOT = '/flows';
const flow = (name: string): Workflow =>
  makeWorkflow({ on: { manual: {} }, tasks: { a: { action: 'log', inputs: { message: 'x' } } } }, name);
const problem = { message: 'broken', file: 'x', line: 1, column: 1 } as never;

function depsWith(entries: WorkflowEntry[], extra: Workflow[] = []): ApiDeps {
  const workflows = new Map<string, Workflow>();
  for (const e of entries) if (e.workflow && e.name) workflows.set(e.name, e.workflow);
  for (const w of extra) workflows.set(w.name, w);
  return {
    config: { workflowsDir: ROOT },
    registry: { entries: () => entries, workflows: () => workflows },
  } as unknown as ApiDeps;
}

/** The answer findEntry gave before it stopped building the whole list. */
function byList(deps: ApiDeps, name: string) {
  const matches = namedEntries(deps).filter((e) => e.name === name);
  return matches.find((e) => e.workflow && e.problems.length === 0) ?? matches[0];
}

describe('findEntry', () => {
  const at = new Date(1);
  const good = {
    file: `${ROOT}/deploy.yaml`,
    name: 'deploy',
    workflow: flow('deploy'),
    problems: [],
    loadedAt: at,
  };
  // A second file claiming the same name, broken now (it keeps its last good definition).
  const broken = { ...good, file: `${ROOT}/old/deploy.yaml`, problems: [problem] };
  const unreadable = { file: `${ROOT}/team/nightly.yaml`, problems: [problem], loadedAt: at };
  const cases: [string, ApiDeps, string][] = [
    ['a file that loads', depsWith([good]), 'deploy'],
    ['the loading file wins over a broken one listed first', depsWith([broken, good]), 'deploy'],
    ['the loading file wins over a broken one listed after', depsWith([good, broken]), 'deploy'],
    ['only a broken file', depsWith([broken]), 'deploy'],
    ['a file too broken to name, named by its path', depsWith([unreadable]), 'team/nightly'],
    ['a definition with no file entry', depsWith([], [flow('extra')]), 'extra'],
    [
      'a definition with no file entry, while a broken file has its name',
      depsWith([broken], [flow('deploy')]),
      'deploy',
    ],
    ['an unknown name', depsWith([good, unreadable]), 'nope'],
  ];
  for (const [what, deps, name] of cases) {
    it(what, () => {
      expect(findEntry(deps, name)).toEqual(byList(deps, name));
    });
  }

  it('finds the good file among many', () => {
    expect(findEntry(depsWith([broken, good, unreadable]), 'deploy')).toMatchObject({
      file: good.file,
      problems: [],
    });
    expect(findEntry(depsWith([good]), 'nope')).toBeUndefined();
  });
});
