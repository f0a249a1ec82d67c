import { loadConfig } from '../config.ts';
import { openRuntime } from '../runtime.ts';
import { createApp } from '../server.ts';
import { openStore } from '../store/db.ts';
import { stderrLog } from './log.ts';

/**
 * A long-running service must not die from one stray rejection (a socket reset mid-query while
 * Postgres restarts): log it with its stack and carry on; leases and the reconciler recover runs.
 */
function keepRunningOnStrayErrors(): void {
  process.on('unhandledRejection', (reason) => {
    stderrLog('error', `unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`);
  });
  process.on('uncaughtException', (err) => {
    stderrLog('error', `uncaught exception: ${err.stack ?? String(err)}`);
  });
}

/**
 * SIGUSR2 runs a full garbage collection at once: resident memory read right after it says what
 * the process keeps, not where its collector's sawtooth happens to be (the bench's memory figure).
 */
function collectOnSignal(): void {
  process.on('SIGUSR2', () => {
    Bun.gc(true);
  });
}

/** First SIGINT/SIGTERM stops gracefully; a second SIGINT exits at once. */
function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal === 'SIGINT') process.exit(130);
      return;
    }
    stopping = true;
    stderrLog(
      'info',
      `${signal}: stopping (in-flight runs get the grace period; Ctrl-C again to exit at once)`,
    );
    stop().then(
      () => process.exit(0),
      (err) => {
        stderrLog('error', `shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export async function migrateCommand(out: (line: string) => void): Promise<number> {
  const config = loadConfig(process.env);
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    prepare: config.dbPrepare,
    max: 1,
  });
  try {
    await store.migrate();
    out(
      `✔ database is up to date (${store.kind === 'postgres' ? 'Postgres' : `PGlite in ${config.dataDir}`})`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** `baton worker`: runs from Redis Streams, state in Postgres. */
export async function workerCommand(concurrency: number | undefined): Promise<number> {
  const config = loadConfig(process.env);
  if (!config.redisUrl || !config.databaseUrl) {
    stderrLog(
      'error',
      'baton worker needs DATABASE_URL and REDIS_URL; without them `baton serve` runs workers in-process',
    );
    return 2;
  }
  keepRunningOnStrayErrors();
  collectOnSignal();
  const runtime = await openRuntime(config, {
    workers: true,
    reconciler: false,
    // Workers pin workflow versions from the database, but take actions from the folders: follow them.
    watch: true,
    concurrency,
  });
  stderrLog(
    'info',
    `worker ${runtime.worker?.id} running up to ${concurrency ?? config.workerConcurrency} runs at once`,
  );
  onShutdown(() => runtime.close());
  return new Promise<number>(() => {}); // runs until a signal
}

/** `baton serve`: HTTP, reconciler, and in-process workers when there is no Redis. */
export async function serveCommand(): Promise<number> {
  const config = loadConfig(process.env);
  const embedded = !config.redisUrl;
  keepRunningOnStrayErrors();
  collectOnSignal();
  const runtime = await openRuntime(config, {
    workers: embedded,
    reconciler: true,
    watch: true,
    triggers: true,
  });
  const app = createApp(runtime);
  // Bun's development mode (its default unless NODE_ENV=production) answers an error that escapes
  // the app with a page of stack traces; the app's own error handler answers every error instead.
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    development: false,
    fetch: app.fetch,
  });
  const where = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${server.port}`;
  stderrLog(
    'info',
    `Baton on ${where} — ${runtime.registry.workflows().size} workflows, ` +
      `${runtime.store.kind === 'postgres' ? 'Postgres' : `embedded PGlite in ${config.dataDir}`}, ` +
      `${embedded ? 'in-process workers' : 'Redis Streams (start workers with `baton worker`)'}`,
  );
  if (config.apiTokens.length === 0) {
    stderrLog('warn', `no BATON_API_TOKENS set: listening on ${config.host} only, without authentication`);
  }
  onShutdown(async () => {
    await server.stop();
    await runtime.close();
  });
  return new Promise<number>(() => {});
}
