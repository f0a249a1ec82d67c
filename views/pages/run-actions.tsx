/** @jsxImportSource hono/jsx */
import type { RunRow } from '../../src/store/schema.ts';
import { ACTIVE_STATUSES } from '../components/status.tsx';

function Action({
  run,
  command,
  label,
  icon,
  confirm,
  kind = 'btn',
}: {
  run: RunRow;
  command: string;
  label: string;
  icon: string;
  confirm?: string;
  kind?: string;
}) {
  const url = `/runs/${run.id}/${command}`;
  return (
    <form
      method="post"
      action={url}
      hx-post={url}
      hx-target="#run-live"
      hx-swap="outerHTML"
      hx-confirm={confirm}
      hx-disabled-elt="find button"
    >
      <button type="submit" class={kind} data-command={command}>
        <span aria-hidden="true">{icon} </span>
        {label}
      </button>
    </form>
  );
}

/**
 * Cancel while the run goes; Retry once it has ended; Retry from failed when something failed.
 * Plain forms (POST, then a redirect) that htmx sends in place when it is there.
 */
export function RunActions({ run }: { run: RunRow }) {
  if (ACTIVE_STATUSES.has(run.status)) {
    if (run.cancelRequested) {
      return (
        <div class="run-actions">
          <button type="button" class="btn" disabled>
            Cancelling…
          </button>
        </div>
      );
    }
    return (
      <div class="run-actions">
        <Action
          run={run}
          command="cancel"
          label="Cancel"
          icon="⊘"
          confirm="Cancel this run?"
          kind="btn btn-danger"
        />
      </div>
    );
  }
  return (
    <div class="run-actions">
      {run.status !== 'succeeded' && (
        <Action
          run={run}
          command="retry-from-failed"
          label="Retry from failed"
          icon="↻"
          kind="btn btn-primary"
        />
      )}
      <Action run={run} command="retry" label="Retry" icon="↺" />
    </div>
  );
}
