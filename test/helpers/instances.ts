import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openRuntime, type Runtime } from '../../src/runtime.ts';

/**
 * `serve`-like instances (store, in-process queue and workers, scheduler, pollers; no HTTP) over
 * one workflows folder and one database, so a test can start, stop and restart several of them.
 */
export function instanceFactory(options: { databaseUrl?: string; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-triggers-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  const open = new Set<Runtime>();
  return {
    dir,
    workflowsDir,
    write(rel: string, text: string) {
      const file = join(workflowsDir, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    },
    async start(env: Record<string, string> = {}): Promise<Runtime> {
      const config = loadConfig(
        {
          ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
          BATON_WORKFLOWS_DIR: workflowsDir,
          BATON_DATA_DIR: join(dir, 'data'),
          BATON_LOG_LEVEL: 'silent',
          BATON_HTTP_ALLOW: '127.0.0.1',
          BATON_SHUTDOWN_GRACE: '5s',
          ...options.env,
          ...env,
        },
        dir,
      );
      const runtime = await openRuntime(config, {
        workers: true,
        reconciler: false,
        watch: false,
        triggers: true,
      });
      open.add(runtime);
      return runtime;
    },
    async stop(runtime: Runtime) {
      if (!open.delete(runtime)) return;
      await runtime.close();
    },
    /** Stops every instance still running and removes the folder. */
    async cleanup() {
      await Promise.allSettled([...open].map((r) => r.close()));
      open.clear();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
