// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow templates are written as ${...} inside plain strings
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AnyAction, defineAction } from '../../../src/plugins/define-action.ts';
import {
  defaultWorkflowName,
  loadWorkflowDir,
  loadWorkflowFile,
  loadWorkflowText,
} from '../../../src/workflow/loader.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/workflows');

// A tiny catalogue so these tests do not depend on the real actions/ folder.
const stub = (name: string, input: z.ZodType): AnyAction =>
  defineAction({ name, description: name, input, output: z.unknown(), run: () => ({}) });
const catalogue = {
  actions: new Map<string, AnyAction>([
    [
      'http.request',
      stub(
        'http.request',
        z.strictObject({
          url: z.url(),
          method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('GET'),
          headers: z.record(z.string(), z.string()).optional(),
          body: z.unknown().optional(),
        }),
      ),
    ],
    [
      'slack.send',
      stub(
        'slack.send',
        z.strictObject({
          text: z.string(),
          channel: z.string().optional(),
          blocks: z.array(z.unknown()).optional(),
        }),
      ),
    ],
  ]),
};

/** Problems of an invalid fixture, without the file name (asserted once below). */
function problemsOf(name: string) {
  const file = join(FIXTURES, 'invalid', `${name}.yaml`);
  const { workflow, problems } = loadWorkflowFile(file, { catalogue });
  expect(workflow).toBeUndefined();
  for (const p of problems) expect(p.file).toBe(file);
  return problems.map(({ file: _file, ...rest }) => rest);
}

const load = (text: string) => loadWorkflowText(text, { file: 'w.yaml', defaultName: 'w', catalogue });
const messages = (text: string) => load(text).problems.map((p) => `${p.line}:${p.column} ${p.message}`);

describe('loader: one fixture per problem class', () => {
  it('YAML syntax errors, at yaml’s positions', () => {
    expect(problemsOf('yaml-syntax')).toEqual([
      {
        line: 4,
        column: 10,
        message:
          'invalid YAML: Nested mappings are not allowed in compact mappings; quote a value that contains ": "',
      },
      {
        line: 8,
        column: 1,
        message: 'invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
      },
    ]);
  });

  it('duplicate keys', () => {
    expect(problemsOf('duplicate-key')).toEqual([
      { line: 4, column: 3, message: 'duplicate key "build"; a key may appear only once in a mapping' },
    ]);
  });

  it('unknown keys, with a did-you-mean, at the key', () => {
    expect(problemsOf('unknown-key')).toEqual([
      {
        line: 6,
        column: 5,
        message: 'unknown key "depend_on" in task "b"; did you mean "depends_on"?',
        path: 'tasks.b.depend_on',
      },
    ]);
  });

  it('missing required fields, at the parent key', () => {
    expect(problemsOf('missing-field')).toEqual([
      { line: 1, column: 1, message: '"concurrency.limit" is required', path: 'concurrency.limit' },
    ]);
  });

  it('wrong types, at the value', () => {
    expect(problemsOf('wrong-type')).toEqual([
      { line: 1, column: 14, message: '"parallelism" must be a number (got "lots")', path: 'parallelism' },
      {
        line: 5,
        column: 24,
        message: 'task "a": "retry.attempts" must be an integer (got 2.5)',
        path: 'tasks.a.retry.attempts',
      },
      {
        line: 6,
        column: 24,
        message: 'task "a": "continue_on_error" must be true or false (got "maybe")',
        path: 'tasks.a.continue_on_error',
      },
    ]);
  });

  it('bad enum values', () => {
    expect(problemsOf('bad-enum')).toEqual([
      {
        line: 7,
        column: 11,
        message: 'task "b": "when" must be one of on_success, on_failure, always (got "sometimes")',
        path: 'tasks.b.when',
      },
    ]);
  });

  it('both or neither of action and run', () => {
    expect(problemsOf('action-and-run')).toEqual([
      {
        line: 4,
        column: 5,
        message: 'task "both" has both "action" and "run"; keep one ("run" is short for the shell action)',
        path: 'tasks.both.run',
      },
      {
        line: 5,
        column: 3,
        message: 'task "neither" needs "action" (an action id) or "run" (a shell command)',
        path: 'tasks.neither',
      },
    ]);
  });

  it('both tasks and steps; neither; empty tasks', () => {
    expect(problemsOf('tasks-and-steps')).toEqual([
      {
        line: 4,
        column: 1,
        message: 'use either "tasks" (a mapping of tasks by id) or "steps" (a list run in order), not both',
        path: 'steps',
      },
    ]);
    expect(problemsOf('no-tasks')).toEqual([
      {
        line: 1,
        column: 1,
        message: 'the workflow has no "tasks" (a mapping of tasks by id) or "steps" (a list run in order)',
      },
    ]);
    expect(problemsOf('empty-tasks')).toEqual([
      { line: 2, column: 1, message: '"tasks" is empty; add at least one task', path: 'tasks' },
    ]);
  });

  it('invalid task ids, explaining why', () => {
    const why =
      'ids are used in expressions like tasks.<id>.output, so they use letters, digits and "_" and do not start with a digit';
    expect(problemsOf('invalid-task-id')).toEqual([
      {
        line: 2,
        column: 3,
        message: `task id "fetch-issue" is not valid: ${why}; try "fetch_issue"`,
        path: 'tasks["fetch-issue"]',
      },
      { line: 4, column: 3, message: `task id "2nd" is not valid: ${why}; try "_2nd"`, path: 'tasks["2nd"]' },
    ]);
  });

  it('unknown depends_on targets, with a did-you-mean', () => {
    expect(problemsOf('unknown-dependency')).toEqual([
      {
        line: 5,
        column: 18,
        message: 'task "notify" depends on "fetch_isue", which does not exist; did you mean "fetch_issue"?',
        path: 'tasks.notify.depends_on[0]',
      },
    ]);
  });

  it('self-dependencies and repeated dependencies', () => {
    expect(problemsOf('self-dependency')).toEqual([
      { line: 5, column: 21, message: 'task "b" depends on itself', path: 'tasks.b.depends_on[1]' },
      {
        line: 5,
        column: 24,
        message: 'task "b" lists "a" more than once in depends_on',
        path: 'tasks.b.depends_on[2]',
      },
    ]);
  });

  it('cycles, at the first task’s depends_on', () => {
    expect(problemsOf('cycle')).toEqual([
      { line: 5, column: 5, message: 'cycle in depends_on: a -> b -> c -> a', path: 'tasks.a.depends_on' },
    ]);
  });

  it('unknown actions, with a did-you-mean among action ids', () => {
    expect(problemsOf('unknown-action')).toEqual([
      {
        line: 3,
        column: 13,
        message: 'unknown action "http.reqest" in task "fetch"; did you mean "http.request"?',
        path: 'tasks.fetch.action',
      },
    ]);
  });

  it('invalid static inputs', () => {
    expect(problemsOf('invalid-input')).toEqual([
      {
        line: 6,
        column: 15,
        message: 'task "fetch": input "method" must be one of GET, POST, PUT, DELETE (got "FETCH")',
        path: 'tasks.fetch.inputs.method',
      },
      {
        line: 7,
        column: 7,
        message: 'unknown input "timeout" in task "fetch"',
        path: 'tasks.fetch.inputs.timeout',
      },
    ]);
  });

  it('templated inputs: static keys, missing required keys and unknown keys are still checked', () => {
    expect(problemsOf('invalid-templated-input')).toEqual([
      {
        line: 6,
        column: 15,
        message: 'task "fetch": input "method" must be one of GET, POST, PUT, DELETE (got "FETCH")',
        path: 'tasks.fetch.inputs.method',
      },
      {
        line: 10,
        column: 5,
        message: 'task "notify": input "text" is required',
        path: 'tasks.notify.inputs.text',
      },
      {
        line: 11,
        column: 7,
        message: 'unknown input "chanel" in task "notify"; did you mean "channel"?',
        path: 'tasks.notify.inputs.chanel',
      },
    ]);
  });

  it('template syntax errors in inputs, if, run and env, pointing inside the string', () => {
    expect(problemsOf('template-syntax')).toEqual([
      {
        line: 5,
        column: 32,
        message:
          'task "fetch": input "url" has an invalid expression ${trigger.body.id +}: unexpected end of expression',
        path: 'tasks.fetch.inputs.url',
      },
      {
        line: 8,
        column: 9,
        message:
          'task "notify": "if" has an invalid expression ${tasks.fetch.output.status ==}: unexpected end of expression',
        path: 'tasks.notify.if',
      },
      {
        line: 9,
        column: 16,
        message: 'task "notify": "run" has an unterminated ${ ... } expression; close it with }',
        path: 'tasks.notify.run',
      },
      {
        line: 11,
        column: 14,
        message: 'task "notify": "env.TITLE" has an empty ${ } expression',
        path: 'tasks.notify.env.TITLE',
      },
    ]);
  });

  it('templates that reference tasks that do not exist', () => {
    expect(problemsOf('unknown-task-reference')).toEqual([
      {
        line: 9,
        column: 25,
        message:
          'task "notify" refers to tasks.fetch_isue, which does not exist; did you mean "fetch_issue"?',
        path: 'tasks.notify.inputs.text',
      },
    ]);
  });

  it('templates that read tasks that are not upstream', () => {
    expect(problemsOf('not-upstream')).toEqual([
      {
        line: 3,
        column: 16,
        message: 'task "a" reads tasks.b.output, but "b" is not upstream of "a"; add it to depends_on',
        path: 'tasks.a.run',
      },
    ]);
  });

  it('object keys json-e reserves ($schema), outside and inside operators', () => {
    // `$$id` is a literal key, `$default` belongs to $switch: neither is reported.
    expect(problemsOf('reserved-key')).toEqual([
      {
        line: 8,
        column: 9,
        message:
          'task "publish": input key "$schema" is read as a json-e operator; write "$$schema" for a literal key',
        path: 'tasks.publish.inputs.body["$schema"]',
      },
      {
        line: 13,
        column: 13,
        message:
          'task "publish": input key "$ref" is read as a json-e operator; write "$$ref" for a literal key',
        path: 'tasks.publish.inputs.body.items["each(item)"]["$ref"]',
      },
    ]);
  });

  it('names templates cannot read, in run, env, if and inputs outside json-e operators', () => {
    // `vars.tasks.build` is a property, not a task; `item` is bound by $map.
    expect(problemsOf('unknown-context-name')).toEqual([
      {
        line: 3,
        column: 34,
        message:
          'task "build": ${HOME} in run: is a Baton template, and "HOME" is not something templates can read; for the shell variable write $HOME or $${HOME}',
        path: 'tasks.build.run',
      },
      {
        line: 5,
        column: 15,
        message:
          'task "build": "env.TARGET" reads "target_dir", which is not something templates can read (they read trigger, tasks, steps, secrets, vars, run, workflow)',
        path: 'tasks.build.env.TARGET',
      },
      {
        line: 8,
        column: 9,
        message:
          'task "notify": "if" reads "sucess", which is not something templates can read (they read trigger, tasks, steps, secrets, vars, run, workflow)',
        path: 'tasks.notify.if',
      },
      {
        line: 11,
        column: 59,
        message:
          'task "notify": input "text" reads "triger", which is not something templates can read (they read trigger, tasks, steps, secrets, vars, run, workflow); did you mean "trigger"?',
        path: 'tasks.notify.inputs.text',
      },
    ]);
  });

  it('{{ }} and ${{ }} templates from other tools', () => {
    expect(problemsOf('mustache')).toEqual([
      {
        line: 5,
        column: 25,
        message:
          'task "notify": input "text" uses {{ trigger.body.issue.title }}; write ${trigger.body.issue.title} instead of {{ ... }}',
        path: 'tasks.notify.inputs.text',
      },
      {
        line: 7,
        column: 15,
        message:
          'task "archive": "run" uses ${{ trigger.body.issue.title }}; write ${ trigger.body.issue.title } instead (one pair of braces)',
        path: 'tasks.archive.run',
      },
    ]);
  });
});

describe('loader: schedule and poll triggers', () => {
  it('bad cron, time zone, catchup_limit, overlap, duplicate ids, poll action, interval and expressions', () => {
    expect(problemsOf('bad-triggers').map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '3:13 "on.schedule[0].cron" is invalid: "61 * * * *" is not a valid cron expression: CronPattern: Invalid value for minute: 61',
      '5:17 "on.schedule[1].timezone" is invalid: "Europe/Berln" is not a known IANA time zone (e.g. Europe/Berlin, UTC)',
      '7:22 "on.schedule[1].catchup_limit" must be at least 1 (got 0)',
      '9:7 on.schedule[2]: catchup_limit bounds catchup: all; set catchup: all or remove it',
      '10:16 "on.schedule[2].overlap" must be one of skip, queue, allow (got "wait")',
      '14:11 schedule id "twice" is already used by on.schedule[3]; ids must be unique',
      '16:13 unknown action "http.requst" in on.poll; did you mean "http.request"?',
      '17:15 "on.poll.interval" is invalid: a poll interval must be at least 250ms',
      '18:12 "on.poll.items" is invalid: "output.body[" is not a valid expression: unexpected end of expression',
      '19:10 "on.poll.key" is invalid: "trigger.body.id" reads "trigger"; this expression can read only item',
    ]);
  });

  it('two entries with the same cron and time zone need ids; input and inputs are one field', () => {
    expect(
      messages(`on:
  schedule:
    - cron: "0 9 * * *"
    - cron: "0 9 * * *"
      input: { a: 1 }
      inputs: { a: 1 }
steps:
  - run: "true"
`),
    ).toEqual([
      '4:13 on.schedule[0] has the same cron and timezone; give one of them an "id:" to tell them apart',
      '6:7 on.schedule[1]: write either "input" or its older spelling "inputs", not both',
    ]);
  });

  it("checks a schedule entry's input against the declared inputs", () => {
    expect(
      messages(`on:
  manual:
    inputs:
      size: { type: integer, required: true }
  schedule:
    - cron: "0 9 * * *"
      input: { size: big }
    - cron: "0 10 * * *"
      input: { color: red }
steps:
  - run: "true"
`),
    ).toEqual([
      '7:14 on.schedule[0]: the runs it starts would be refused: input "size" must be an integer (got "big") (see on.manual.inputs)',
      '9:14 on.schedule[1]: the runs it starts would be refused: unknown input "color" (declared: size) (see on.manual.inputs)',
    ]);
  });

  it('checks static poll inputs against the action, and what templated ones read', () => {
    expect(
      messages(`on:
  poll:
    action: http.request
    inputs: { url: 5, method: "\${trigger.body.method}" }
    interval: 1m
    items: output.body
steps:
  - run: "true"
`),
    ).toEqual([
      '4:31 on.poll.inputs.method reads "trigger", which does not exist before a run; a poll\'s inputs can read secrets, vars and workflow',
    ]);
    expect(
      messages(`on:
  poll:
    action: http.request
    inputs: { url: 5 }
    interval: 1m
    items: output.body
steps:
  - run: "true"
`),
    ).toEqual(['4:20 "on.poll.inputs.url" must be a string (got 5)']);
    expect(
      messages(`on:
  poll:
    action: http.request
    inputs:
      url: "https://example.com"
      query: { a: ["\${tasks.x.output}", "\${secrets.A"] }
    interval: 1m
    items: output.body
steps:
  - run: "true"
`),
    ).toEqual([
      '6:20 on.poll.inputs.query.a[0] reads "tasks", which does not exist before a run; a poll\'s inputs can read secrets, vars and workflow',
      '6:41 on.poll.inputs.query.a[1] has an unterminated ${ ... } expression; close it with }',
    ]);
  });

  it('normalizes entries: UTC by default, ids, input (or inputs), overlap skip, catchup none', () => {
    const { workflow } = load(`on:
  schedule:
    - cron: "0 9 * * 1-5"
      id: weekday
      timezone: Europe/Berlin
      input: { size: 3 }
      overlap: queue
      catchup: all
      catchup_limit: 5
    - cron: "*/10 * * * * *"
      inputs: { old: true }
  poll:
    action: http.request
    inputs: { url: "https://example.com/items" }
    interval: 30s
    items: output.body.items
    fire_existing: true
steps:
  - run: "true"
`);
    expect(workflow?.triggers.schedule).toEqual([
      {
        id: 'weekday',
        cron: '0 9 * * 1-5',
        timezone: 'Europe/Berlin',
        inputs: { size: 3 },
        overlap: 'queue',
        catchup: 'all',
        catchupLimit: 5,
      },
      {
        id: expect.stringMatching(/^[0-9a-f]{10}$/),
        cron: '*/10 * * * * *',
        timezone: 'UTC',
        inputs: { old: true },
        overlap: 'skip',
        catchup: 'none',
        catchupLimit: 10,
      },
    ]);
    expect(workflow?.triggers.poll).toEqual({
      action: 'http.request',
      inputs: { url: 'https://example.com/items' },
      intervalMs: 30_000,
      items: 'output.body.items',
      key: 'item.id',
      fireExisting: true,
      timeoutMs: 30_000,
    });
  });
});

describe('loader: reporting', () => {
  it('reports every problem of a file in one go, sorted, without cascades', () => {
    // notify's dependency is misspelt: its reads of fetch_issue are not also reported as "not upstream".
    expect(problemsOf('several-errors').map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '3:47 "on.schedule[0].timezone" is invalid: "Europe/Berln" is not a known IANA time zone (e.g. Europe/Berlin, UTC)',
      '7:70 task "fetch_issue": input "method" must be one of GET, POST, PUT, DELETE (got "FETCH")',
      '9:18 task "notify" depends on "fetch_isue", which does not exist; did you mean "fetch_issue"?',
      '13:16 task "archive" reads tasks.fetch_issue.output, but "fetch_issue" is not upstream of "archive"; add it to depends_on',
      '14:11 task "archive": "when" must be one of on_success, on_failure, always (got "sometimes")',
      '15:5 unknown key "timout" in task "archive"; did you mean "timeout"?',
      '17:16 task "cleanup" refers to tasks.archve, which does not exist; did you mean "archive"?',
    ]);
  });

  it('suggests top-level keys and names nested containers', () => {
    expect(messages('taks:\n  a: { run: x }\non:\n  webhok: {}\n')).toEqual([
      '1:1 unknown key "taks" at the top level; did you mean "tasks"?',
      '1:1 the workflow has no "tasks" (a mapping of tasks by id) or "steps" (a list run in order)',
      '4:3 unknown key "webhok" in "on"; did you mean "webhook"?',
    ]);
  });

  it('does not suggest a name that shares nothing with the typo', () => {
    expect(messages('tasks:\n  a:\n    run: x\n    depends_on: [b]\n')).toEqual([
      '4:18 task "a" depends on "b", which does not exist',
    ]);
  });

  it('rejects files that are empty or not a mapping', () => {
    expect(messages('')).toEqual([
      '1:1 a workflow file must be a mapping with "tasks" or "steps", but the file is empty',
    ]);
    expect(messages('- run: x\n')).toEqual([
      '1:1 a workflow file must be a mapping with "tasks" or "steps", but it is a list',
    ]);
  });

  it('keeps checking after a duplicate key', () => {
    expect(messages('tasks:\n  a:\n    run: x\n    run: y\n    when: never\n')).toEqual([
      '4:5 duplicate key "run"; a key may appear only once in a mapping',
      '5:11 task "a": "when" must be one of on_success, on_failure, always (got "never")',
    ]);
  });

  it('explains union types and ranges', () => {
    expect(
      messages(
        'tasks:\n  a:\n    run: x\n    depends_on: 5\n    retry: { attempts: 0, jitter: 2 }\n    timeout: {}\n',
      ),
    ).toEqual([
      '4:17 task "a": "depends_on" must be a string or a list (got 5)',
      '5:24 task "a": "retry.attempts" must be at least 1 (got 0)',
      '5:35 task "a": "retry.jitter" must be at most 1 (got 2)',
      '6:14 task "a": "timeout" must be a string or a number (got a mapping)',
    ]);
  });

  it('names steps by id or position and checks their explicit dependencies', () => {
    expect(
      messages(
        'steps:\n  - run: a\n  - id: build\n    depends_on: [nope]\n    run: b\n  - run: ${steps.later.output}\n    whenn: always\n',
      ),
    ).toEqual([
      '4:18 step "build" depends on "nope", which does not exist',
      '6:10 step 3 refers to steps.later, which does not exist',
      '7:5 unknown key "whenn" in step 3; did you mean "when"?',
    ]);
  });

  it('checks steps ids: valid and unique', () => {
    expect(
      messages('steps:\n  - id: a-b\n    run: x\n  - id: c\n    run: y\n  - id: c\n    run: z\n'),
    ).toEqual([
      '2:9 step id "a-b" is not valid: ids are used in expressions like tasks.<id>.output, so they use letters, digits and "_" and do not start with a digit; try "a_b"',
      '6:9 step id "c" is already used by step 2; ids must be unique',
    ]);
  });

  it('reads a later step as not upstream', () => {
    expect(messages('steps:\n  - run: echo ${steps.step_2.output.stdout}\n  - run: echo b\n')).toEqual([
      '2:15 step 1 reads steps.step_2.output, but "step_2" is not upstream of "step_1"; add it to depends_on',
    ]);
  });

  it('checks expressions inside json-e operators', () => {
    const text =
      'tasks:\n  a:\n    action: slack.send\n    inputs:\n      text: ok\n      blocks:\n        $if: tasks.b.output\n        then: []\n  b:\n    run: x\n';
    expect(messages(text)).toEqual([
      '7:14 task "a" reads tasks.b.output, but "b" is not upstream of "a"; add it to depends_on',
    ]);
  });

  it('rejects durations longer than a timer can wait', () => {
    expect(
      messages(
        'timeout: 30d\ntasks:\n  a:\n    run: x\n    timeout: 24d\n    retry: { delay: 2147483648 }\n',
      ),
    ).toEqual([
      '1:10 "timeout" is invalid: "30d" is too long; the most is 24d',
      '6:21 task "a": "retry.delay" is invalid: "2147483648" is too long; the most is 24d',
    ]);
  });

  it('explains a list under tasks', () => {
    expect(messages('tasks:\n  - run: x\n')).toEqual([
      '2:3 "tasks" must be a mapping of task id to task (got a list); a list of steps run in order is called "steps"',
    ]);
  });

  it('reports fields that normalize would drop', () => {
    const text =
      'tasks:\n  a:\n    run: x\n    inputs: { y: 1 }\n  b:\n    action: slack.send\n    env: { A: "1" }\n    inputs: { text: hi }\n';
    expect(messages(text)).toEqual([
      '4:5 task "a": "inputs" does nothing with "run"; pass values to the command through "env" or ${ } in "run"',
      '7:5 task "b": "env" only applies to "run" tasks; pass it to the action through "inputs"',
    ]);
  });

  it('does not cascade from a misspelt field', () => {
    // `input` stands for `inputs`: no "input text is required"; `actoin` for `action`: no "needs action or run".
    const text =
      'tasks:\n  a:\n    action: slack.send\n    input: { text: hi }\n  b:\n    actoin: slack.send\n';
    expect(messages(text)).toEqual([
      '4:5 unknown key "input" in task "a"; did you mean "inputs"?',
      '6:5 unknown key "actoin" in task "b"; did you mean "action"?',
    ]);
  });

  it('leaves {{ }} in descriptions alone', () => {
    expect(
      messages('description: renders {{ x }}\ntasks:\n  a:\n    description: "{{ y }}"\n    run: x\n'),
    ).toEqual([]);
  });

  it('rejects a default name that is not a valid workflow name', () => {
    const { problems } = loadWorkflowText('steps:\n  - run: x\n', {
      file: 'my flow.yaml',
      defaultName: 'my flow',
    });
    expect(problems.map((p) => p.message)).toEqual([
      'the file name makes the workflow name "my flow", which is not valid (use letters, digits, "_", "-", "." and "/"); rename the file or set "name:"',
    ]);
  });

  it('skips action checks without a catalogue', () => {
    const text = 'tasks:\n  a:\n    action: nope.nothing\n    inputs: { anything: 1 }\n';
    expect(loadWorkflowText(text, { file: 'w.yaml', defaultName: 'w' }).problems).toEqual([]);
    expect(messages(text)).toEqual(['3:13 unknown action "nope.nothing" in task "a"']);
  });
});

describe('loader: valid files', () => {
  it('loads and normalizes a realistic workflow with zero problems', () => {
    const { workflow, problems } = loadWorkflowFile(join(FIXTURES, 'valid', 'github-issue-to-slack.yaml'), {
      catalogue,
    });
    expect(problems).toEqual([]);
    expect(workflow?.name).toBe('github-issue-to-slack');
    expect(workflow?.timeoutMs).toBe(15 * 60_000);
    expect(workflow?.triggers.webhook).toEqual({ verify: 'github', secret: 'GITHUB_WEBHOOK_SECRET' });
    expect(workflow?.tasks.map((t) => [t.id, t.action, t.dependsOn])).toEqual([
      ['fetch_issue', 'http.request', []],
      ['notify', 'slack.send', ['fetch_issue']],
      ['archive', 'shell', ['fetch_issue']],
      ['report', 'http.request', ['notify', 'archive']],
    ]);
    const archive = workflow?.tasks[2];
    expect(archive?.when).toBe('always');
    // The exact command escaping is normalize's business; the value travels in the environment.
    expect(archive?.inputs.command).toContain('BATON_V1');
    expect(archive?.inputs.env).toEqual({ BATON_V1: '${tasks.fetch_issue.output.body.title}' });
    expect(workflow?.tasks[3]?.retry.attempts).toBe(5);
    expect(workflow?.source.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives steps sequential dependencies and default ids', () => {
    const { workflow, problems } = loadWorkflowFile(join(FIXTURES, 'valid', 'nightly-steps.yaml'), {
      catalogue,
    });
    expect(problems).toEqual([]);
    expect(workflow?.name).toBe('nightly-steps');
    expect(workflow?.tasks.map((t) => [t.id, t.dependsOn])).toEqual([
      ['checkout', []],
      ['step_2', ['checkout']],
      ['publish', ['step_2']],
    ]);
  });
});

describe('loader: files and folders', () => {
  it('names a workflow by its path under the workflows root', () => {
    expect(defaultWorkflowName('workflows/ops/nightly.yaml', 'workflows')).toBe('ops/nightly');
    expect(defaultWorkflowName('workflows/ops/nightly.yml')).toBe('nightly');
  });

  it('reports an unreadable file as a problem', () => {
    const missing = join(FIXTURES, 'nope.yaml');
    expect(loadWorkflowFile(missing).problems).toEqual([
      { file: missing, line: 1, column: 1, message: expect.stringContaining('cannot read the file') },
    ]);
  });

  it('loads every .yaml and .yml file recursively, one result per file', () => {
    const dir = join(FIXTURES, 'dir');
    const results = loadWorkflowDir(dir);
    expect(results.map((r) => [r.file, r.workflow?.name, r.problems.length])).toEqual([
      [join(dir, 'broken.yaml'), undefined, 1],
      [join(dir, 'hello.yml'), 'hello-world', 0],
      [join(dir, 'ops/nightly.yaml'), 'ops/nightly', 0],
    ]);
  });

  it('reports two files declaring the same workflow name', () => {
    const dir = join(FIXTURES, 'dir-duplicate');
    const [first, second] = loadWorkflowDir(dir);
    expect(first?.workflow?.name).toBe('shared');
    expect(second?.workflow).toBeUndefined();
    expect(second?.problems).toEqual([
      {
        file: join(dir, 'b/second.yaml'),
        line: 2,
        column: 7,
        path: 'name',
        message: `workflow name "shared" is already used by ${join(dir, 'a/first.yaml')}; names must be unique`,
      },
    ]);
  });
});
