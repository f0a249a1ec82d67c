import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Problem } from '../errors.ts';
import { isWorkflowFileName, listWorkflowFiles, loadWorkflowText } from '../workflow/loader.ts';
import { diffPlan, isEmptyPlan, type Plan, type PlanFile, type PlanSide } from '../workflow/plan.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { openWorkspace } from './workspace.ts';

export type PlanFormat = 'text' | 'markdown' | 'json';

export interface PlanOptions {
  base?: string;
  /** A git ref; the working tree (files on disk) when absent. */
  head?: string;
  format: PlanFormat;
  out: (line: string) => void;
  err: (line: string) => void;
  now?: Date;
}

/** As the catalogue loads them: .ts/.js/.mjs files directly in the actions folder, tests excepted. */
function isActionFile(file: string, dir: string): boolean {
  const rel = dir === '.' ? file : file.startsWith(`${dir}/`) ? file.slice(dir.length + 1) : '';
  return /^[^/]+\.(ts|js|mjs)$/.test(rel) && !/(\.test|\.spec|\.d)\.(ts|js|mjs)$/.test(rel);
}

function git(cwd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').trim() };
}

function nearestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The path with symlinks resolved in the part that exists (`/tmp` → `/private/tmp`). */
function realPath(path: string): string {
  const existing = nearestExisting(path);
  return join(realpathSync(existing), relative(existing, path));
}

/** Loads every workflow file of one side; a name used twice is a problem of the later file. */
function loadSide(
  texts: Map<string, string>,
  workflowsDir: string,
  actions: Map<string, string>,
  catalogue: Parameters<typeof loadWorkflowText>[1]['catalogue'],
): PlanSide {
  const byName = new Map<string, string>();
  const workflows: PlanFile[] = [...texts.keys()].sort().map((file) => {
    const text = texts.get(file) as string;
    const rel = relative(workflowsDir, file).replace(/\.ya?ml$/i, '');
    const r = loadWorkflowText(text, { file, defaultName: rel, ...(catalogue && { catalogue }) });
    const name = r.workflow?.name;
    if (name !== undefined) {
      const first = byName.get(name);
      if (first !== undefined) {
        const problem: Problem = {
          file,
          line: 1,
          column: 1,
          message: `workflow name "${name}" is already used by ${first}; names must be unique`,
        };
        return { file, text, problems: [problem] };
      }
      byName.set(name, file);
    }
    return { file, text, problems: r.problems, ...(r.workflow && { workflow: r.workflow }) };
  });
  return { workflows, actions };
}

function treeAt(root: string, ref: string, dirs: { workflows: string; actions: string }) {
  const listed = git(root, ['ls-tree', '-r', '--name-only', ref, '--', dirs.workflows, dirs.actions]);
  const workflows = new Map<string, string>();
  const actions = new Map<string, string>();
  for (const file of listed.stdout.split('\n').filter(Boolean)) {
    const name = file.split('/').pop() as string;
    const inWorkflows = dirs.workflows === '.' || file.startsWith(`${dirs.workflows}/`);
    // As listWorkflowFiles: dot-folders and node_modules below the workflows folder are skipped.
    const below = dirs.workflows === '.' ? file : file.slice(dirs.workflows.length + 1);
    const hidden = below.split('/').some((p) => p.startsWith('.') || p === 'node_modules');
    if (inWorkflows && isWorkflowFileName(name) && !hidden) workflows.set(file, show(root, ref, file));
    else if (isActionFile(file, dirs.actions)) actions.set(file, show(root, ref, file));
  }
  return { workflows, actions };
}

function show(root: string, ref: string, file: string): string {
  const r = git(root, ['show', `${ref}:${file}`]);
  if (!r.ok) throw new Error(`git show ${ref}:${file}: ${r.stderr}`);
  return r.stdout;
}

function treeOnDisk(root: string, dirs: { workflows: string; actions: string }) {
  const workflows = new Map<string, string>();
  const actions = new Map<string, string>();
  const abs = resolve(root, dirs.workflows);
  try {
    for (const file of listWorkflowFiles(abs))
      workflows.set(relative(root, file), readFileSync(file, 'utf8'));
  } catch {}
  // Tracked and untracked action files, as git sees the working tree.
  const files = git(root, ['ls-files', '--cached', '--others', '--exclude-standard', '--', dirs.actions]);
  for (const file of files.stdout.split('\n').filter((f) => isActionFile(f, dirs.actions))) {
    try {
      actions.set(file, readFileSync(resolve(root, file), 'utf8'));
    } catch {}
  }
  return { workflows, actions };
}

/** `baton plan --base REF [--head REF]`: what merging the head would change; exit 1 when the head has problems. */
export async function planCommand(options: PlanOptions): Promise<number> {
  const { out, err } = options;
  if (!options.base) {
    err('error: baton plan needs --base <git ref>');
    return 2;
  }
  const { config, catalogue } = await openWorkspace();
  // The repository is the one holding the workflows folder (which may not exist on disk).
  const workflowsDir = realPath(config.workflowsDir);
  const top = git(nearestExisting(workflowsDir), ['rev-parse', '--show-toplevel']);
  if (!top.ok) {
    err(`error: ${config.workflowsDir} is not inside a git repository (${top.stderr})`);
    return 2;
  }
  const root = realpathSync(top.stdout.trim());
  for (const ref of [options.base, options.head]) {
    if (ref !== undefined && !git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).ok) {
      err(`error: unknown git ref "${ref}"`);
      return 2;
    }
  }
  const dirs = {
    workflows: relative(root, workflowsDir) || '.',
    actions: relative(root, realPath(config.actionsDir)) || '.',
  };
  const base = treeAt(root, options.base, dirs);
  const head = options.head ? treeAt(root, options.head, dirs) : treeOnDisk(root, dirs);
  const plan = diffPlan(
    loadSide(base.workflows, dirs.workflows, base.actions, undefined),
    loadSide(head.workflows, dirs.workflows, head.actions, catalogue),
    { now: options.now ?? new Date(), actions: catalogue.actions },
  );
  const headLabel = options.head ?? 'the working tree';
  const render = { text: renderText, markdown: renderMarkdown, json: renderJson }[options.format];
  out(render(plan, options.base, headLabel));
  return plan.problems.length === 0 ? 0 : 1;
}

function renderJson(plan: Plan, base: string, head: string): string {
  return JSON.stringify({ base, head, ok: plan.problems.length === 0, ...plan }, null, 2);
}

/** One line per change, shared by text and markdown. */
function lines(plan: Plan, code: (s: string) => string): { title: string; items: string[] }[] {
  const w = plan.workflows;
  const sections: { title: string; items: string[] }[] = [
    { title: 'Workflows added', items: w.added.map((x) => `${code(x.name)} (${x.file})`) },
    { title: 'Workflows removed', items: w.removed.map((x) => `${code(x.name)} (${x.file})`) },
    {
      title: 'Workflows renamed',
      items: w.renamed.map((x) => `${code(x.fromName ?? x.name)} ${x.from} → ${code(x.name)} ${x.to}`),
    },
    {
      title: 'Workflows changed',
      items: w.changed.flatMap((c) => {
        const items: string[] = [];
        for (const t of c.tasks.added) items.push(`task ${code(t)} added`);
        for (const t of c.tasks.removed) items.push(`task ${code(t)} removed`);
        for (const t of c.tasks.changed) items.push(`task ${code(t.id)} changed: ${t.fields.join(', ')}`);
        if (c.webhook) {
          const { change, before, after } = c.webhook;
          items.push(
            change === 'added'
              ? `webhook added, verification ${after}`
              : change === 'removed'
                ? `webhook removed (was ${before})`
                : `webhook verification ${before} → ${after}`,
          );
        }
        if (c.schedule) {
          const show = (s: { cron: string; timezone: string; next: string[] }[]) =>
            s.length === 0
              ? 'none'
              : s.map((x) => `${code(x.cron)} ${x.timezone}: next ${x.next.join(', ')}`).join('; ');
          items.push(`schedule before: ${show(c.schedule.before)}`);
          items.push(`schedule after: ${show(c.schedule.after)}`);
        }
        return [`${code(c.name)} (${c.file})`, ...items.map((i) => `  ${i}`)];
      }),
    },
    {
      title: 'Secrets newly required',
      items: plan.secrets.map((s) => `${code(s.name)} — ${s.workflow}, ${s.where}`),
    },
    {
      title: 'Connections newly required',
      items: plan.connections.map((s) => `${code(s.name)} — ${s.workflow}, ${s.where}`),
    },
    { title: 'Actions added', items: plan.actions.added },
    { title: 'Actions removed', items: plan.actions.removed },
    {
      title: 'Actions changed',
      items: plan.actions.changed.map(
        (a) => `${code(a.id)} (${a.file}), used by ${a.usedBy.map(code).join(', ') || 'no workflow'}`,
      ),
    },
  ];
  return sections.filter((s) => s.items.length > 0);
}

function renderText(plan: Plan, base: string, head: string): string {
  const out = [`baton plan: ${base} → ${head}`];
  if (isEmptyPlan(plan)) out.push('no changes to workflows or actions');
  for (const s of lines(plan, (x) => x)) {
    out.push('', `${s.title}:`, ...s.items.map((i) => (i.startsWith('  ') ? `    ${i.trim()}` : `  - ${i}`)));
  }
  out.push('');
  out.push(
    plan.problems.length === 0
      ? '✔ no problems in the head'
      : `${formatProblems(plan.problems, 'text')}\n✖ ${plan.problems.length} problem(s) in the head`,
  );
  return out.join('\n');
}

function renderMarkdown(plan: Plan, base: string, head: string): string {
  const code = (s: string) => `\`${s}\``;
  const out = [
    `## baton plan`,
    '',
    `Comparing ${code(base)} → ${head === 'the working tree' ? 'the working tree' : code(head)}.`,
  ];
  if (isEmptyPlan(plan)) out.push('', 'No changes to workflows or actions.');
  for (const s of lines(plan, code)) {
    const body = s.items.map((i) => (i.startsWith('  ') ? `  - ${i.trim()}` : `- ${i}`));
    out.push('');
    if (body.length > 20) {
      out.push(
        `<details><summary><b>${s.title}</b> (${body.length} lines)</summary>`,
        '',
        ...body,
        '',
        '</details>',
      );
    } else out.push(`### ${s.title}`, '', ...body);
  }
  out.push('');
  if (plan.problems.length === 0) out.push('✅ No problems in the head.');
  else {
    out.push(
      `### ❌ ${plan.problems.length} problem(s) in the head`,
      '',
      '| File | Line | Problem |',
      '| --- | --- | --- |',
    );
    for (const p of plan.problems)
      out.push(
        `| ${p.file} | ${p.line}:${p.column} | ${p.message.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`,
      );
  }
  return out.join('\n');
}
