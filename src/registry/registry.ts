import { resolve } from 'node:path';
import { type ActionLoadProblem, type Catalogue, loadCatalogue } from '../plugins/catalogue.ts';
import type { Workflow } from '../workflow/types.ts';
import { actionFingerprint, actionProblemsToLog, keepLastGoodActions } from './actions.ts';
import type { RegistryView, WorkflowEntry } from './types.ts';
import { type ChangeKind, watchSources } from './watch.ts';
import {
  type FileState,
  formatProblem,
  loadFileState,
  problemsKey,
  type RegistryState,
  readWorkflowTexts,
  resolveNames,
} from './workflow-files.ts';

export type RegistryLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface RegistryOptions {
  workflowsDir: string;
  /** Extra action folders; Baton's built-ins are always loaded. */
  actionsDirs: string[];
  /** Quiet time after the last file event before reloading. */
  debounceMs?: number;
  log?: RegistryLog;
  /** Called, and awaited, for each definition that starts being served with a new content hash. */
  onVersion?: (workflow: Workflow) => void | Promise<void>;
  /** Start watching right after the first load (default true). */
  watch?: boolean;
}

/**
 * The workflows and actions on disk, kept current: file events are debounced into one reload;
 * a workflow file that breaks keeps serving its last good definition, an action file that
 * breaks keeps its last good action; problems are logged once per change.
 */
export class Registry implements RegistryView {
  private readonly workflowsDir: string;
  private readonly actionsDirs: string[];
  private readonly debounceMs: number;
  private readonly log: RegistryLog;
  private readonly onVersion: RegistryOptions['onVersion'];
  private readonly listeners = new Set<() => void>();

  private files = new Map<string, FileState>();
  private state: RegistryState = { entries: [], workflows: new Map() };
  private currentCatalogue: Catalogue = { actions: new Map(), problems: [] };
  private catalogueFingerprint = '';

  private watcher: { close(): Promise<void> } | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private burstStartedAt: number | undefined;
  private pending = { workflows: false, actions: false };
  private changedActionFiles = new Set<string>();
  private running: Promise<void> | undefined;

  private constructor(options: RegistryOptions) {
    this.workflowsDir = resolve(options.workflowsDir);
    this.actionsDirs = options.actionsDirs.map((d) => resolve(d));
    this.debounceMs = options.debounceMs ?? 150;
    this.log = options.log ?? (() => {});
    this.onVersion = options.onVersion;
  }

  /** Loads the catalogue and every workflow file, then (unless `watch: false`) starts watching. */
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    await registry.reload({ workflows: true, actions: true }, true);
    if (options.watch !== false) await registry.start();
    return registry;
  }

  workflows(): ReadonlyMap<string, Workflow> {
    return this.state.workflows;
  }

  entries(): WorkflowEntry[] {
    return this.state.entries;
  }

  catalogue(): Catalogue {
    return this.currentCatalogue;
  }

  actionProblems(): ActionLoadProblem[] {
    return this.currentCatalogue.problems;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts watching (idempotent); resolves when the watchers are ready. */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the registry was stopped'));
    this.starting ??= (async () => {
      const watcher = await watchSources({
        workflowsDir: this.workflowsDir,
        actionsDirs: this.actionsDirs,
        onEvent: (kind, path) => this.schedule(kind, path),
        onError: (err) => this.log('warn', `registry watcher: ${(err as Error).message}`),
      });
      if (this.stopped) {
        await watcher.close();
        return;
      }
      this.watcher = watcher;
      this.catchUp();
    })();
    return this.starting;
  }

  /** Reloads workflows and actions now (e.g. after a git sync); resolves when the reload is done. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    this.pending = { workflows: true, actions: true };
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    await this.running;
  }

  /** Closes the watchers, cancels a pending reload and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.starting?.catch(() => {});
    await this.watcher?.close();
    this.watcher = undefined;
    await this.running;
  }

  /** Schedules reloads for changes made between the first load and the watchers being ready. */
  private catchUp(): void {
    if (actionFingerprint(this.actionsDirs) !== this.catalogueFingerprint) this.schedule('actions');
    const texts = readWorkflowTexts(this.workflowsDir);
    const differs =
      texts.size !== this.files.size ||
      [...texts].some(([file, text]) => this.files.get(file)?.text !== text || typeof text !== 'string');
    if (differs) this.schedule('workflows');
  }

  private schedule(kind: ChangeKind, path?: string): void {
    if (this.stopped) return;
    this.pending[kind] = true;
    if (kind === 'actions' && path) this.changedActionFiles.add(resolve(path));
    const now = Date.now();
    this.burstStartedAt ??= now;
    // Trailing debounce, but a steady stream of events still reloads every 4 quiet periods.
    const wait = Math.max(0, Math.min(this.debounceMs, this.burstStartedAt + 4 * this.debounceMs - now));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    this.burstStartedAt = undefined;
    if (this.running || this.stopped) return; // the running loop picks up what is pending
    this.running = (async () => {
      while (!this.stopped && (this.pending.workflows || this.pending.actions)) {
        const kinds = this.pending;
        this.pending = { workflows: false, actions: false };
        try {
          await this.reload(kinds, false);
        } catch (err) {
          this.log('error', `registry reload failed: ${(err as Error).message}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async reload(kinds: Record<ChangeKind, boolean>, initial: boolean): Promise<void> {
    if (kinds.actions) await this.reloadCatalogue(initial);

    // Only files whose text changed are loaded again, unless the actions changed under all of them.
    const texts = readWorkflowTexts(this.workflowsDir);
    const files = new Map<string, FileState>();
    const reread = new Set<string>();
    for (const [file, text] of texts) {
      const previous = this.files.get(file);
      const same = previous !== undefined && typeof text === 'string' && previous.text === text;
      if (same && !kinds.actions) {
        files.set(file, previous);
        continue;
      }
      if (!same) reread.add(file);
      files.set(file, loadFileState(file, text, this.workflowsDir, this.currentCatalogue, previous));
    }
    for (const file of this.files.keys()) {
      if (!files.has(file)) this.log('info', `workflow file removed: ${file}`);
    }

    const next = resolveNames(files.values());
    const before = new Map(this.state.entries.map((e) => [e.file, problemsKey(e.problems)]));
    for (const entry of next.entries) {
      if (!reread.has(entry.file) && before.get(entry.file) === problemsKey(entry.problems)) continue;
      for (const p of entry.problems) this.log('warn', formatProblem(p));
    }
    await this.announceVersions(next.workflows);
    this.files = files;
    this.state = next;
    if (!initial) this.notify();
  }

  private async reloadCatalogue(initial: boolean): Promise<void> {
    const changed = this.changedActionFiles;
    this.changedActionFiles = new Set();
    const fingerprint = actionFingerprint(this.actionsDirs);
    const loaded = await loadCatalogue(this.actionsDirs, { fresh: !initial });
    const previous = this.currentCatalogue;
    const next = keepLastGoodActions(initial ? undefined : previous, loaded);
    for (const p of actionProblemsToLog(previous.problems, next.problems, changed)) {
      this.log('warn', `${p.file}: ${p.message}`);
    }
    this.currentCatalogue = next;
    this.catalogueFingerprint = fingerprint;
  }

  /** onVersion for each served definition that is new under its name or has a new hash. */
  private async announceVersions(next: ReadonlyMap<string, Workflow>): Promise<void> {
    for (const [name, workflow] of next) {
      const previous = this.state.workflows.get(name);
      if (previous?.source.hash === workflow.source.hash) continue;
      this.log(
        'info',
        `workflow "${name}" version ${workflow.source.hash.slice(0, 12)} from ${workflow.source.file}`,
      );
      try {
        await this.onVersion?.(workflow);
      } catch (err) {
        this.log('error', `recording version of workflow "${name}" failed: ${(err as Error).message}`);
      }
    }
    for (const name of this.state.workflows.keys()) {
      if (!next.has(name)) this.log('info', `workflow "${name}" is no longer served`);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.log('error', `registry change listener failed: ${(err as Error).message}`);
      }
    }
  }
}
