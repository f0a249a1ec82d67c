import type { Config } from '../config.ts';
import type { Connections } from '../connections/service.ts';
import type { StartRunRequest, startRun } from '../engine/start-run.ts';
import type { GitSync } from '../git/sync.ts';
import type { Queue } from '../queue/queue.ts';
import type { RegistryView } from '../registry/types.ts';
import type { SecretSource } from '../secrets/source.ts';
import type { SecretVault } from '../secrets/vault.ts';
import type { Db } from '../store/db.ts';

/** Everything the HTTP layer needs; built by the runtime, faked by nothing (tests use real parts). */
export interface ApiDeps {
  config: Config;
  db: Db;
  queue: Queue;
  registry: RegistryView;
  /** The encrypted secret store and the resolved secrets (store, then environment). */
  vault?: SecretVault;
  secretSource?: SecretSource;
  /** OAuth2 connections (absent in tests that do not need them). */
  connections?: Connections;
  /** The git checkout being synced (absent without BATON_GIT_REMOTE). */
  gitSync?: Pick<GitSync, 'status' | 'tick'>;
  /** Starts a run of the named workflow's current version (404 when unknown, 409 when invalid). */
  startRun(name: string, request: Omit<StartRunRequest, 'workflow'>): ReturnType<typeof startRun>;
}
