import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiDeps } from '../../src/api/deps.ts';
import { apiRoutes, type OpenApiExtra } from '../../src/api/index.ts';
import { loadConfig } from '../../src/config.ts';
import { startRun } from '../../src/engine/start-run.ts';
import type { TriggerType } from '../../src/engine/types.ts';
import { ConflictError, NotFoundError } from '../../src/errors.ts';
import { type ActionLoadProblem, type Catalogue, loadCatalogue } from '../../src/plugins/catalogue.ts';
import { type AnyAction, defineAction } from '../../src/plugins/define-action.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import type { RegistryView, WorkflowEntry } from '../../src/registry/types.ts';
import { secretSource } from '../../src/secrets/source.ts';
import { SecretVault } from '../../src/secrets/vault.ts';
import type { Db } from '../../src/store/db.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { defaultWorkflowName, loadWorkflowText } from '../../src/workflow/loader.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { createTestStore } from '../helpers/db.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

/**
 * A small registry over files the test writes: `setFile` loads the text like the real registry
 * (problems on disk now, last good definition kept), with the built-in actions plus test actions.
 */
export class TestRegistry implements RegistryView {
  private readonly files = new Map<string, WorkflowEntry>();
  readonly actionLoadProblems: ActionLoadProblem[] = [];

  constructor(
    readonly dir: string,
    readonly cat: Catalogue,
  ) {}

  setFile(rel: string, text: string): WorkflowEntry {
    const file = join(this.dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    const defaultName = defaultWorkflowName(file, this.dir);
    const result = loadWorkflowText(text, { file, defaultName, catalogue: this.cat });
    const before = this.files.get(file);
    const declared = /^name:\s*(\S+)/m.exec(text)?.[1];
    const entry: WorkflowEntry = {
      file,
      name: result.workflow?.name ?? declared ?? defaultName,
      problems: result.problems,
      loadedAt: new Date(),
    };
    const workflow = result.workflow ?? before?.workflow;
    if (workflow) entry.workflow = workflow;
    this.files.set(file, entry);
    return entry;
  }

  workflows(): ReadonlyMap<string, Workflow> {
    const out = new Map<string, Workflow>();
    for (const e of this.files.values()) if (e.workflow) out.set(e.workflow.name, e.workflow);
    return out;
  }
  entries(): WorkflowEntry[] {
    return [...this.files.values()];
  }
  catalogue(): Catalogue {
    return this.cat;
  }
  actionProblems(): ActionLoadProblem[] {
    return [...this.cat.problems, ...this.actionLoadProblems];
  }
  onChange(): () => void {
    return () => {};
  }
}

/** Calls of the test action, by `${runId}:${label}`. */
export const calls: string[] = [];

/** `test.step`: records its call; fails while `fail` is true (the test flips it to let a retry pass). */
export const switches = { fail: true };

export const testActions: AnyAction[] = [
  defineAction({
    name: 'test.step',
    description: 'Records that it ran; fails on demand',
    input: z.object({ label: z.string(), flaky: z.boolean().default(false) }),
    output: z.object({ label: z.string(), doubled: z.string() }),
    run(ctx) {
      calls.push(`${ctx.run.id}:${ctx.input.label}`);
      if (ctx.input.flaky && switches.fail) throw new Error(`${ctx.input.label} failed on purpose`);
      return { label: ctx.input.label, doubled: ctx.input.label.repeat(2) };
    },
  }),
  defineAction({
    name: 'test.transform',
    description: 'Has schemas with transforms and refinements',
    input: z.object({
      when: z.string().transform((s) => new Date(s)),
      count: z.number().int().min(1).default(3),
    }),
    output: z.object({ at: z.date() }),
    run: (ctx) => ({ at: ctx.input.when }),
  }),
];

/** A response's JSON, for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes
export const json = (res: Response): Promise<any> => res.json();

export interface ApiContext {
  app: ReturnType<typeof apiRoutes>;
  deps: ApiDeps;
  registry: TestRegistry;
  queue: MemoryQueue;
  store: Awaited<ReturnType<typeof createTestStore>>['store'];
  dir: string;
  /** JSON request helper: `call('POST', '/api/...', body)` → { status, body }. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes
  ): Promise<{ status: number; body: any; headers: Headers }>;
  cleanup(): Promise<void>;
}

export async function createApiContext(
  options: { env?: Record<string, string>; extra?: OpenApiExtra } = {},
): Promise<ApiContext> {
  const db = await createTestStore();
  const dir = mkdtempSync(join(tmpdir(), 'baton-api-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  const cat = await loadCatalogue();
  for (const action of testActions) cat.actions.set(action.name, action);
  const registry = new TestRegistry(workflowsDir, cat);
  const queue = new MemoryQueue();
  const config = loadConfig({ BATON_WORKFLOWS_DIR: workflowsDir, BATON_DATA_DIR: dir, ...options.env }, dir);
  const vault = new SecretVault(db.store.db, config.masterKey);
  const deps: ApiDeps = {
    config,
    db: db.store.db,
    queue,
    registry,
    vault,
    secretSource: secretSource(vault),
    startRun(name, request) {
      const entry = registry.entries().find((e) => e.name === name);
      const workflow = registry.workflows().get(name);
      if (!workflow) throw new NotFoundError(`no workflow named "${name}"`);
      if (entry && entry.problems.length > 0) throw new ConflictError(`workflow "${name}" is invalid`);
      return startRun({ db: db.store.db, queue }, { ...request, workflow });
    },
  };
  const app = apiRoutes(deps, options.extra);
  return {
    app,
    deps,
    registry,
    queue,
    store: db.store,
    dir,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        if (typeof body !== 'string')
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const res = await app.request(path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async cleanup() {
      await queue.close();
      await db.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Seed {
  workflow: string;
  status?: string;
  triggerType?: TriggerType;
  createdAt?: string;
}

/** Runs written straight to the store (one stored version), with a status and creation time of choice. */
export async function seeder(db: Db) {
  const wf = makeWorkflow({ tasks: { a: { action: 'test.step', inputs: { label: 'a' } } } }, 'seeded');
  const versionId = (await upsertVersion(db, wf, { text: 'seeded', path: 'seeded.yaml' })).id;
  async function seed(s: Seed, on: Db = db): Promise<string> {
    const triggerType = s.triggerType ?? 'api';
    const { run } = await createRun(on, {
      workflow: s.workflow,
      versionId,
      triggerType,
      trigger: { type: triggerType, inputs: {} },
    });
    const set: Partial<typeof runs.$inferInsert> = {};
    if (s.status) set.status = s.status;
    if (s.createdAt) set.createdAt = new Date(s.createdAt);
    if (Object.keys(set).length > 0) await on.update(runs).set(set).where(eq(runs.id, run.id));
    return run.id;
  }
  return { seed, versionId };
}
