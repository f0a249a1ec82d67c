import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/registry.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { BUN } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SDK = resolve(import.meta.dirname, '../fixtures/registry/sdk.ts');
const PROBE = resolve(import.meta.dirname, '../fixtures/registry/bun-probe.ts');

const flow = (message: string, head = '') =>
  `${head}tasks:\n  say:\n    action: log\n    inputs: { message: "${message}" }\n`;
const greetFlow = 'tasks:\n  hello:\n    action: greet\n    inputs: { who: Ada }\n';
const greetAction = (description: string, input = '{ who: z.string() }') =>
  `import { defineAction, z } from '${SDK}';
export default defineAction({
  name: 'greet',
  description: '${description}',
  input: z.strictObject(${input}),
  output: z.object({ text: z.string() }),
  run: () => ({ text: 'hi' }),
});
`;

interface Fixture {
  root: string;
  registry: Registry;
  logs: string[];
  versions: Workflow[];
  changes(): number;
  write(rel: string, text: string): string;
  path(rel: string): string;
}

function makeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'baton-registry-'));
  mkdirSync(join(root, 'workflows'));
  mkdirSync(join(root, 'actions'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

async function withRegistry(files: Record<string, string>, test: (f: Fixture) => Promise<void>) {
  const root = makeTree(files);
  const logs: string[] = [];
  const versions: Workflow[] = [];
  let changes = 0;
  const registry = await Registry.open({
    workflowsDir: join(root, 'workflows'),
    actionsDirs: [join(root, 'actions')],
    log: (level, message) => logs.push(`${level} ${message}`),
    onVersion: (w) => {
      versions.push(w);
    },
  });
  registry.onChange(() => changes++);
  const path = (rel: string) => join(root, rel);
  try {
    await test({
      root,
      registry,
      logs,
      versions,
      changes: () => changes,
      path,
      write: (rel, text) => {
        writeFileSync(path(rel), text);
        return path(rel);
      },
    });
  } finally {
    await registry.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const entry = (r: Registry, file: string) => r.entries().find((e) => e.file === file);

describe('Registry', () => {
  it('loads every workflow file, reports broken ones with positions, and records versions', () =>
    withRegistry(
      {
        'workflows/a.yaml': flow('a'),
        'workflows/ops/nightly.yaml': flow('n'),
        'workflows/named.yaml': flow('x', 'name: custom\n'),
        'workflows/broken.yaml': flow('b').replace('action: log', 'action: log\n    depends_on: [nope]'),
      },
      async ({ registry, logs, versions, path }) => {
        expect([...registry.workflows().keys()].sort()).toEqual(['a', 'custom', 'ops/nightly']);
        expect(registry.entries()).toHaveLength(4);
        const broken = entry(registry, path('workflows/broken.yaml'));
        expect(broken?.workflow).toBeUndefined();
        expect(broken?.problems[0]).toMatchObject({ line: 4, column: 18 });
        expect(logs).toContain(`warn ${path('workflows/broken.yaml')}:4:18: ${broken?.problems[0]?.message}`);
        expect(versions.map((v) => v.name).sort()).toEqual(['a', 'custom', 'ops/nightly']);
        expect(registry.catalogue().actions.has('log')).toBe(true);
      },
    ));

  it('ignores *.test.yaml files (tests for `baton test`), also when one is added later', () =>
    withRegistry(
      { 'workflows/a.yaml': flow('a'), 'workflows/a.test.yaml': 'cases:\n  - name: x\n' },
      async (t) => {
        expect([...t.registry.workflows().keys()]).toEqual(['a']);
        expect(t.registry.entries().map((e) => e.file)).toEqual([t.path('workflows/a.yaml')]);
        t.write('workflows/b.test.yaml', 'cases:\n  - name: y\n');
        t.write('workflows/c.yaml', flow('c'));
        await waitFor(() => t.registry.workflows().has('c'), { timeoutMs: 3000 });
        expect(t.registry.entries()).toHaveLength(2);
      },
    ));

  it('picks up added, edited, broken, fixed, renamed and deleted files within a second', () =>
    withRegistry({ 'workflows/a.yaml': flow('a1') }, async (t) => {
      const { registry } = t;
      const started = Date.now();
      t.write('workflows/added.yaml', flow('new'));
      await waitFor(() => registry.workflows().has('added'), { timeoutMs: 3000 });
      expect(Date.now() - started).toBeLessThan(1000);

      const firstHash = registry.workflows().get('a')?.source.hash;
      t.write('workflows/a.yaml', flow('a2'));
      await waitFor(() => registry.workflows().get('a')?.source.hash !== firstHash);
      const goodHash = registry.workflows().get('a')?.source.hash;
      expect(t.versions.at(-1)).toMatchObject({ name: 'a', source: { hash: goodHash } });
      const versionCount = t.versions.length;

      const file = t.write('workflows/a.yaml', `${flow('a3')}  extra: [\n`);
      const broken = await waitFor(() => entry(registry, file)?.problems[0]);
      expect(broken).toMatchObject({ file, line: expect.any(Number), column: expect.any(Number) });
      expect(registry.workflows().get('a')?.source.hash).toBe(goodHash);
      expect(entry(registry, file)?.workflow?.source.hash).toBe(goodHash);
      // each problem logged once for this change
      expect(t.logs.filter((l) => l.startsWith(`warn ${file}:`))).toHaveLength(
        entry(registry, file)?.problems.length ?? -1,
      );

      t.write('workflows/a.yaml', flow('a2'));
      await waitFor(() => entry(registry, file)?.problems.length === 0);
      expect(t.versions.length).toBe(versionCount); // same content as the last good one: no new version

      renameSync(t.path('workflows/a.yaml'), t.path('workflows/b.yaml'));
      await waitFor(() => registry.workflows().has('b') && !registry.workflows().has('a'));
      expect(registry.entries().map((e) => e.file)).not.toContain(file);

      t.write('workflows/named.yaml', flow('n', 'name: fixed\n'));
      await waitFor(() => registry.workflows().has('fixed'));
      mkdirSync(t.path('workflows/sub'));
      renameSync(t.path('workflows/named.yaml'), t.path('workflows/sub/moved.yaml'));
      await waitFor(
        () => registry.workflows().get('fixed')?.source.file === t.path('workflows/sub/moved.yaml'),
      );

      unlinkSync(t.path('workflows/b.yaml'));
      await waitFor(() => !registry.workflows().has('b'));
      expect([...registry.workflows().keys()].sort()).toEqual(['added', 'fixed']);
    }));

  it('debounces a burst of writes into a reload or two, and the last content wins', () =>
    withRegistry({ 'workflows/a.yaml': flow('start') }, async (t) => {
      for (let i = 1; i <= 20; i++) await writeFile(t.path('workflows/a.yaml'), flow(`burst ${i}`));
      await waitFor(() => t.registry.workflows().get('a')?.tasks[0]?.inputs.message === 'burst 20');
      expect(t.changes()).toBeGreaterThanOrEqual(1);
      expect(t.changes()).toBeLessThanOrEqual(2);
    }));

  it('follows atomic saves (temp file renamed over) and truncate-then-write saves', () =>
    withRegistry({ 'workflows/a.yaml': flow('one') }, async (t) => {
      const message = () => t.registry.workflows().get('a')?.tasks[0]?.inputs.message;
      t.write('workflows/a.yaml.tmp-1234', flow('two'));
      renameSync(t.path('workflows/a.yaml.tmp-1234'), t.path('workflows/a.yaml'));
      await waitFor(() => message() === 'two');

      const fd = openSync(t.path('workflows/a.yaml'), 'w');
      const text = flow('three');
      writeSync(fd, text.slice(0, 10));
      writeSync(fd, text.slice(10));
      closeSync(fd);
      await waitFor(() => message() === 'three');
      expect(t.logs.filter((l) => l.includes('no longer served') || l.startsWith('warn'))).toEqual([]);
      expect(t.versions.map((v) => v.tasks[0]?.inputs.message)).toEqual(['one', 'two', 'three']);
    }));

  it('reloads action files: new, edited, broken (last good kept), stricter schema, deleted', () =>
    withRegistry({ 'workflows/uses.yaml': greetFlow }, async (t) => {
      const { registry } = t;
      const file = t.path('workflows/uses.yaml');
      expect(entry(registry, file)?.problems[0]?.message).toMatch(/greet/);
      expect(registry.workflows().has('uses')).toBe(false);

      const action = t.write('actions/greet.ts', greetAction('v1'));
      await waitFor(() => registry.workflows().has('uses'));
      expect(entry(registry, file)?.problems).toEqual([]);
      const hash = registry.workflows().get('uses')?.source.hash;

      t.write('actions/greet.ts', greetAction('v2'));
      await waitFor(() => registry.catalogue().actions.get('greet')?.description === 'v2');

      t.write('actions/greet.ts', 'export default defineAction({\n');
      await waitFor(() => registry.actionProblems().some((p) => p.file === action));
      expect(registry.catalogue().actions.get('greet')?.description).toBe('v2');
      expect(entry(registry, file)?.problems).toEqual([]);
      expect(t.logs.filter((l) => l.startsWith(`warn ${action}: `))).toHaveLength(1);

      t.write('actions/greet.ts', greetAction('v3', '{ name: z.string() }'));
      const problems = await waitFor(() => {
        const found = entry(registry, file)?.problems ?? [];
        return found.length > 0 ? found : undefined;
      });
      expect(registry.actionProblems()).toEqual([]);
      expect(problems[0]).toMatchObject({ file, line: expect.any(Number), column: expect.any(Number) });
      expect(registry.workflows().get('uses')?.source.hash).toBe(hash);

      t.write('actions/greet.ts', greetAction('v4'));
      await waitFor(() => entry(registry, file)?.problems.length === 0);
      unlinkSync(action);
      await waitFor(() => !registry.catalogue().actions.has('greet'));
      expect(entry(registry, file)?.problems[0]?.message).toMatch(/greet/);
      expect(registry.workflows().get('uses')?.source.hash).toBe(hash);
    }));

  it('reports a second file with the same name and keeps the first by path', () =>
    withRegistry({ 'workflows/a.yaml': flow('a', 'name: same\n') }, async (t) => {
      const second = t.write('workflows/b.yaml', flow('b', 'name: same\n'));
      await waitFor(() => entry(t.registry, second)?.problems.length);
      expect(entry(t.registry, second)?.problems[0]).toMatchObject({ line: 1, column: 7, path: 'name' });
      expect(t.registry.workflows().get('same')?.source.file).toBe(t.path('workflows/a.yaml'));
      unlinkSync(t.path('workflows/a.yaml'));
      await waitFor(() => t.registry.workflows().get('same')?.source.file === second);
      expect(entry(t.registry, second)?.problems).toEqual([]);
    }));

  it('stop() leaves no watcher behind: a later change reaches only a live registry', async () => {
    const root = makeTree({ 'workflows/a.yaml': flow('a') });
    const dirs = { workflowsDir: join(root, 'workflows'), actionsDirs: [join(root, 'actions')] };
    const stopped = await Registry.open(dirs);
    const witness = await Registry.open(dirs);
    let changes = 0;
    stopped.onChange(() => changes++);
    try {
      await stopped.stop();
      writeFileSync(join(root, 'workflows/late.yaml'), flow('late'));
      await waitFor(() => witness.workflows().has('late'));
      expect(stopped.workflows().has('late')).toBe(false);
      expect(changes).toBe(0);
    } finally {
      await witness.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  // vitest's module runner honours `?v=` on file: URLs, Bun's own loader does not: only a real
  // Bun process shows whether loadCatalogue's `fresh` re-imports an edited action.
  it('reloads an edited action in a plain Bun process, which then exits on its own', async () => {
    const root = makeTree({ 'workflows/hi.yaml': greetFlow, 'actions/greet.ts': greetAction('v1') });
    const child = spawn(BUN, [PROBE, root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(code, out).toBe(0);
      expect(JSON.parse(out.trim().split('\n').at(-1) ?? '')).toEqual({
        before: 'v1',
        after: 'v2',
        workflows: ['hi'],
      });
    } finally {
      child.kill();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
