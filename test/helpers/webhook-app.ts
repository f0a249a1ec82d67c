import { count, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { errorHandler } from '../../src/api/errors.ts';
import { type WebhookOutcome, type WebhookRouteOptions, webhookRoutes } from '../../src/api/hooks.ts';
import { loadConfig } from '../../src/config.ts';
import { startRun } from '../../src/engine/start-run.ts';
import { NotFoundError, type Problem } from '../../src/errors.ts';
import type { Queue } from '../../src/queue/queue.ts';
import type { RegistryView, WorkflowEntry } from '../../src/registry/types.ts';
import type { Db } from '../../src/store/db.ts';
import { runs } from '../../src/store/schema.ts';
import { loadWorkflowText } from '../../src/workflow/loader.ts';
import type { Workflow } from '../../src/workflow/types.ts';

/** A registry over fixed workflows (the real one watches files); tests may swap entries. */
export class FixedRegistry implements RegistryView {
  private readonly good = new Map<string, Workflow>();
  private readonly files: WorkflowEntry[] = [];

  /** A workflow from YAML; the name defaults to `name:` in the text. */
  add(yaml: string, name = 'unnamed'): Workflow {
    const { workflow, problems } = loadWorkflowText(yaml, { file: `/wf/${name}.yaml`, defaultName: name });
    if (!workflow)
      throw new Error(`test workflow does not load: ${problems.map((p) => p.message).join('; ')}`);
    this.good.set(workflow.name, workflow);
    this.files.push({
      file: `/wf/${name}.yaml`,
      name: workflow.name,
      workflow,
      problems: [],
      loadedAt: new Date(),
    });
    return workflow;
  }

  /** A file that has problems now; `lastGood` is the definition the registry still keeps. */
  addBroken(name: string, problems: Problem[], lastGood?: Workflow): void {
    if (lastGood) this.good.set(name, lastGood);
    this.files.push({
      file: `/wf/${name}.yaml`,
      name,
      ...(lastGood ? { workflow: lastGood } : {}),
      problems,
      loadedAt: new Date(),
    });
  }

  workflows(): ReadonlyMap<string, Workflow> {
    return this.good;
  }
  entries(): WorkflowEntry[] {
    return this.files;
  }
  catalogue() {
    return { actions: new Map(), problems: [] };
  }
  actionProblems() {
    return [];
  }
  onChange(): () => void {
    return () => {};
  }
}

export interface WebhookApp {
  app: Hono;
  registry: FixedRegistry;
  outcomes: WebhookOutcome[];
  secrets: Record<string, string>;
  /** Rows in `runs` for the workflow (all workflows when omitted). */
  runCount(workflow?: string): Promise<number>;
}

export function webhookApp(
  db: Db,
  queue: Queue,
  options: Omit<WebhookRouteOptions, 'secrets' | 'onOutcome'> & { bodyLimit?: string } = {},
): WebhookApp {
  const registry = new FixedRegistry();
  const outcomes: WebhookOutcome[] = [];
  const secrets: Record<string, string> = {};
  const config = loadConfig({ BATON_BODY_LIMIT: options.bodyLimit ?? '1mb' });
  const deps = {
    config,
    db,
    queue,
    registry,
    startRun(name: string, request: Omit<Parameters<typeof startRun>[1], 'workflow'>) {
      const workflow = registry.workflows().get(name);
      if (!workflow) throw new NotFoundError(`no workflow named "${name}"`);
      return startRun({ db, queue }, { ...request, workflow });
    },
  };
  const app = new Hono();
  app.onError(errorHandler);
  app.route(
    '/',
    webhookRoutes(deps, {
      ...(options.now ? { now: options.now } : {}),
      secrets: () => secrets,
      onOutcome: (o) => outcomes.push(o),
    }),
  );
  return {
    app,
    registry,
    outcomes,
    secrets,
    async runCount(workflow) {
      const query = db.select({ n: count() }).from(runs);
      const [row] = await (workflow ? query.where(eq(runs.workflow, workflow)) : query);
      return Number(row?.n ?? 0);
    },
  };
}

/** What /hooks answers: a run, or an error in the project's shape. */
export interface HookAnswer {
  run_id: string;
  url: string;
  duplicate: boolean;
  ping?: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever details an error carries
  error: { code: string; message: string; details?: any };
}

export async function answer(res: Response): Promise<HookAnswer> {
  return (await res.json()) as HookAnswer;
}

/** A JSON POST. */
export function post(
  app: Hono,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    }),
  );
}
