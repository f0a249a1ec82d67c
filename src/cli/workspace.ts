import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { type Config, loadConfig } from '../config.ts';
import type { Problem } from '../errors.ts';
import { type Catalogue, loadCatalogue } from '../plugins/catalogue.ts';
import { defaultWorkflowName, loadWorkflowDir, loadWorkflowFile } from '../workflow/loader.ts';
import type { Workflow } from '../workflow/types.ts';

export interface Loaded {
  file: string;
  workflow?: Workflow;
  problems: Problem[];
}

/** Config and action catalogue as every CLI command sees them. */
export async function openWorkspace(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const dirs = env.BATON_ACTIONS_DIR || existsSync(config.actionsDir) ? [config.actionsDir] : [];
  const catalogue = await loadCatalogue(dirs);
  return { config, catalogue };
}

/** `<file|name>`: a path to a YAML file, or a workflow name under the workflows folder. */
export async function resolveWorkflow(target: string, config: Config, catalogue: Catalogue): Promise<Loaded> {
  const path = resolve(target);
  if (existsSync(path) && statSync(path).isFile()) {
    const root = isInside(path, config.workflowsDir) ? config.workflowsDir : undefined;
    return { file: path, ...(await loadWorkflowFile(path, { root, catalogue })) };
  }
  if (/\.ya?ml$/i.test(target)) return notFound(target, `no such file: ${target}`);
  if (!existsSync(config.workflowsDir)) {
    return notFound(target, `no file "${target}" and no workflows folder at ${config.workflowsDir}`);
  }
  const all = await loadWorkflowDir(config.workflowsDir, { catalogue });
  const nameOf = (r: Loaded) => r.workflow?.name ?? defaultWorkflowName(r.file, config.workflowsDir);
  const match = all.find((r) => nameOf(r) === target);
  if (match) return match;
  const names = all.map(nameOf);
  return notFound(target, `no workflow named "${target}" (known: ${names.join(', ') || 'none'})`);
}

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function notFound(target: string, message: string): Loaded {
  return { file: target, problems: [{ file: target, line: 1, column: 1, message }] };
}
