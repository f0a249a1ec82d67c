/** @jsxImportSource hono/jsx */
import type { Problem } from '../../src/errors.ts';
import type { Catalogue } from '../../src/plugins/catalogue.ts';
import { loadWorkflowText } from '../../src/workflow/loader.ts';
import { DagSvg, graphOf } from '../components/dag.tsx';
import { ProblemList } from '../components/problems.tsx';
import { roughGraph } from '../playground-graph.ts';

export const PLAYGROUND_FILE = 'playground.yaml';

export const EXAMPLE = `name: hello-playground
description: Edit me; problems and the graph update as you type
on:
  manual:
    inputs:
      who: { type: string, default: world }
tasks:
  greet:
    run: echo "hello \${trigger.inputs.who}"
  wait:
    action: sleep
    inputs: { duration: 1s }
    depends_on: [greet]
  done:
    action: log
    inputs: { message: "done after \${tasks.wait.output.slept_ms} ms" }
    depends_on: [wait]
`;

export interface CheckResult {
  name: string | undefined;
  problems: Problem[];
  graph: ReturnType<typeof graphOf> | undefined;
}

/** Loads the text exactly as the registry would (catalogue included) and draws what it can. */
export function checkYaml(text: string, catalogue: Catalogue): CheckResult {
  const result = loadWorkflowText(text, { file: PLAYGROUND_FILE, defaultName: 'playground', catalogue });
  const graph = result.workflow ? graphOf(result.workflow.tasks) : roughGraph(text);
  const declared = /^name:\s*["']?([\w./-]+)/m.exec(text)?.[1];
  return { name: result.workflow?.name ?? declared, problems: result.problems, graph };
}

export function CheckView({ result }: { result: CheckResult }) {
  const n = result.problems.length;
  return (
    <>
      {n === 0 ? (
        <p class="verdict verdict-ok" data-valid="true">
          <span class="status st-succeeded">
            <span aria-hidden="true">✓ </span>valid
          </span>{' '}
          {result.name && <span class="muted">{result.name}</span>}
        </p>
      ) : (
        <div class="verdict verdict-bad" data-valid="false">
          <span class="status st-failed">
            <span aria-hidden="true">✕ </span>
            {n} problem{n === 1 ? '' : 's'}
          </span>
          <ProblemList problems={result.problems} showFile={false} />
        </div>
      )}
      {result.graph ? (
        <DagSvg nodes={result.graph.nodes} edges={result.graph.edges} id="playground-dag" />
      ) : (
        <p class="empty">No tasks to draw yet.</p>
      )}
    </>
  );
}

export function PlaygroundPage({ text, result, from }: { text: string; result: CheckResult; from?: string }) {
  return (
    <>
      <div class="page-head">
        <h1>Playground</h1>
        <p class="muted">
          Write or paste a workflow; problems and the graph update as you type. Nothing here is saved: files
          in the repository stay the source of truth, so download or copy the YAML into a pull request.
          {from && (
            <>
              {' '}
              Started from <code>{from}</code>.
            </>
          )}
        </p>
      </div>
      <form id="playground" method="post" action="/playground/download" class="playground">
        <div class="editor-pane">
          <label for="yaml" class="block-label">
            Workflow YAML
          </label>
          <textarea
            id="yaml"
            name="yaml"
            class="editor mono"
            rows={26}
            spellcheck={false}
            autocomplete="off"
            wrap="off"
            hx-post="/playground/check"
            hx-trigger="input changed delay:400ms, keyup changed delay:400ms"
            hx-target="#playground-result"
            hx-swap="innerHTML"
            hx-sync="this:replace"
          >
            {text}
          </textarea>
          <div class="actions">
            <button type="submit" class="btn">
              <span aria-hidden="true">⤓ </span>Download YAML
            </button>
            <button type="button" class="btn" data-copy="#yaml">
              Copy
            </button>
            <span class="muted small" data-copied hidden>
              copied
            </span>
          </div>
        </div>
        <div class="result-pane">
          <div class="block-label">Check</div>
          <div id="playground-result" aria-live="polite">
            <CheckView result={result} />
          </div>
        </div>
      </form>
    </>
  );
}
