import type { EventSink, RunEvent } from '../engine/events.ts';
import { formatDuration } from '../util/duration.ts';
import { formatPlan } from '../workflow/dag.ts';

type Write = (line: string) => void;

const MAX_OUTPUT_PREVIEW = 120;

/** Human progress for `baton run`: the plan, each task as it starts and ends, the outcome. */
export function humanPrinter(write: Write, color = false): EventSink {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    emit(event: RunEvent) {
      switch (event.type) {
        case 'run.status':
          if (event.status === 'running' && event.plan) {
            write(`${paint(1, 'plan')}  ${formatPlan(event.plan)}`);
          } else if (event.status !== 'running' && event.status !== 'pending') {
            const took = event.durationMs === undefined ? '' : ` in ${formatDuration(event.durationMs)}`;
            const mark =
              event.status === 'succeeded'
                ? paint(32, '✔ run succeeded')
                : paint(31, `✖ run ${event.status.replace('_', ' ')}`);
            const why = event.error ? `: ${event.error.message.replaceAll('\n', '\n    ')}` : '';
            write(`${mark}${took}${why}  (run ${event.runId})`);
          }
          return;
        case 'task.log': {
          const marker =
            event.stream === 'stderr' || event.level === 'warn' || event.level === 'error' ? '!' : '│';
          write(`  ${paint(2, marker)} ${paint(2, `${event.taskId}:`)} ${event.message}`);
          return;
        }
        case 'task.status': {
          const took = event.durationMs === undefined ? '' : ` in ${formatDuration(event.durationMs)}`;
          const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : '';
          switch (event.status) {
            case 'pending':
              return;
            case 'running':
              write(`${paint(36, '▶')} ${event.taskId} ${paint(2, `(${event.action})`)}${attempt}`);
              return;
            case 'succeeded':
              write(`${paint(32, '✔')} ${event.taskId}${took}${preview(event.output)}`);
              return;
            case 'skipped':
              write(`${paint(33, '↷')} ${event.taskId} skipped: ${event.reason ?? ''}`);
              return;
            default: {
              // Multi-line messages (stderr tails) continue indented under the task line.
              const why = (event.error?.message ?? event.reason ?? '').replaceAll('\n', '\n    ');
              const retry = event.retryAt
                ? paint(
                    33,
                    ` — retrying in ${formatDuration(Math.max(0, Date.parse(event.retryAt) - Date.now()))}`,
                  )
                : '';
              write(
                `${paint(31, '✖')} ${event.taskId} ${event.status.replace('_', ' ')}${took}${attempt}: ${why}${retry}`,
              );
            }
          }
        }
      }
    },
  };
}

/** `--json`: one event per line, for scripts and CI logs. */
export function jsonPrinter(write: Write): EventSink {
  return { emit: (event) => write(JSON.stringify(event)) };
}

function preview(output: unknown): string {
  if (output === undefined || output === null) return '';
  let text = JSON.stringify(output);
  if (text === '{}') return '';
  if (text.length > MAX_OUTPUT_PREVIEW) text = `${text.slice(0, MAX_OUTPUT_PREVIEW - 1)}…`;
  return `  → ${text}`;
}
