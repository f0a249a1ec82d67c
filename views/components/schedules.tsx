/** @jsxImportSource hono/jsx */
import type { z } from '@hono/zod-openapi';
import type { PollSummary, WorkflowSummary } from '../../src/api/schemas.ts';
import { workflowHref } from '../render.tsx';
import { pollFailing, type ScheduleLine, scheduleLines } from '../schedule.ts';
import { formatDuration, Time } from './time.tsx';

type Summary = z.infer<typeof WorkflowSummary>;
type Poll = z.infer<typeof PollSummary>;

/** Paused or running, as icon, word and colour, so it reads the same without colour. */
export function ScheduleState({ paused }: { paused: boolean }) {
  return paused ? (
    <span class="status st-paused" data-schedule-state="paused">
      <span class="status-icon" aria-hidden="true">
        ‖
      </span>
      paused
    </span>
  ) : (
    <span class="status st-active" data-schedule-state="active">
      <span class="status-icon" aria-hidden="true">
        ▶
      </span>
      active
    </span>
  );
}

/** Whether the poller's last poll worked; a failing one says how many times in a row. */
export function PollState({ poll }: { poll: Poll }) {
  const status = poll.status;
  if (!status) {
    return (
      <span class="status st-none" data-poll-state="new">
        <span class="status-icon" aria-hidden="true">
          ○
        </span>
        not polled yet
      </span>
    );
  }
  if (pollFailing(status)) {
    return (
      <span class="status st-failed" data-poll-state="failing" title={status.last_error ?? undefined}>
        <span class="status-icon" aria-hidden="true">
          ✕
        </span>
        poll failing ({status.failures})
      </span>
    );
  }
  return (
    <span class="status st-succeeded" data-poll-state="ok">
      <span class="status-icon" aria-hidden="true">
        ✓
      </span>
      polling
    </span>
  );
}

const entryDetails = (s: ScheduleLine) => `${s.id} · overlap ${s.overlap} · catch-up ${s.catchup}`;

/** The overview's cell: each entry's next time and cron, or that the schedules are paused. */
export function ScheduleSummaryCell({ summary, now }: { summary: Summary; now: Date }) {
  const lines = scheduleLines(summary);
  if (lines.length === 0) return <span class="muted">—</span>;
  const paused = summary.triggers.schedule_paused;
  return (
    <span>
      {paused && <ScheduleState paused />}
      {lines.map((s) => (
        <span class="sched-entry block" data-entry={s.id}>
          {!paused && <Time at={s.next[0]} now={now} />}
          <span class="muted small block mono">
            {s.cron} ({s.timezone})
          </span>
          <span class="muted small block">{entryDetails(s)}</span>
        </span>
      ))}
    </span>
  );
}

function NextTimes({ times, paused, now }: { times: Date[]; paused: boolean; now: Date }) {
  if (paused) return <span class="muted">none while paused</span>;
  if (times.length === 0) return <span class="muted">—</span>;
  return (
    <ol class="next-times">
      {times.map((t, i) => (
        <li>
          <Time at={t} now={now} exact />
          {i === 0 && (
            <span class="muted">
              {' '}
              (<Time at={t} now={now} />)
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

function ScheduleButton({ name, paused }: { name: string; paused: boolean }) {
  const command = paused ? 'resume' : 'pause';
  const url = `${workflowHref(name)}/schedules/${command}`;
  return (
    <form
      method="post"
      action={url}
      hx-post={url}
      hx-target="#schedules"
      hx-swap="outerHTML"
      hx-disabled-elt="find button"
    >
      <button type="submit" class={paused ? 'btn btn-primary' : 'btn'} data-command={command}>
        <span aria-hidden="true">{paused ? '▶ ' : '‖ '}</span>
        {paused ? 'Resume schedules' : 'Pause schedules'}
      </button>
    </form>
  );
}

/**
 * The workflow page's schedules: state, Pause/Resume, and each entry with the scheduler's next
 * times. The POST answers this section again, so htmx swaps it in place.
 */
export function SchedulesSection({ summary, now }: { summary: Summary; now: Date }) {
  const lines = scheduleLines(summary);
  const paused = summary.triggers.schedule_paused;
  return (
    <section class="section" id="schedules" data-paused={String(paused)}>
      <div class="section-head">
        <h2 class="with-state">
          Schedules <ScheduleState paused={paused} />
        </h2>
        <div class="run-actions">
          <ScheduleButton name={summary.name} paused={paused} />
        </div>
      </div>
      {paused && (
        <p class="alert alert-warn">
          <strong>
            <span aria-hidden="true">‖ </span>Schedules are paused.
          </strong>{' '}
          No scheduled run starts until they are resumed; times that pass meanwhile are not caught up.
        </p>
      )}
      <div class="table-wrap">
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Cron</th>
              <th scope="col">Time zone</th>
              <th scope="col">Overlap</th>
              <th scope="col">Catch-up</th>
              <th scope="col">Next times (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((s) => (
              <tr data-entry={s.id}>
                <td data-label="Entry">
                  <code>{s.id}</code>
                </td>
                <td data-label="Cron">
                  <code>{s.cron}</code>
                </td>
                <td data-label="Time zone">{s.timezone}</td>
                <td data-label="Overlap">{s.overlap}</td>
                <td data-label="Catch-up">{s.catchup}</td>
                <td data-label="Next times">
                  <NextTimes times={s.next} paused={paused} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The workflow page's poller: what it asks, how the last polls went, and whether an instance holds it. */
export function PollerSection({ poll, now }: { poll: Poll; now: Date }) {
  const status = poll.status;
  return (
    <section class="section" id="poller">
      <div class="section-head">
        <h2 class="with-state">
          Poller <PollState poll={poll} />
        </h2>
      </div>
      <div class="card">
        <dl class="facts">
          <dt>Action</dt>
          <dd>
            <code>{poll.action}</code> every {formatDuration(poll.interval_ms)}
          </dd>
          <dt>Items</dt>
          <dd>
            <code>{poll.items}</code> <span class="muted">keyed by</span> <code>{poll.key}</code>
          </dd>
          {status ? (
            <>
              <dt>Last poll</dt>
              <dd>
                <Time at={iso(status.last_polled_at)} now={now} />
                {status.failures === 0 && status.last_polled_at && (
                  <span class="muted"> · started {runsCount(status.last_new_items)}</span>
                )}
              </dd>
              <dt>Last success</dt>
              <dd>
                <Time at={iso(status.last_success_at)} now={now} />
              </dd>
              <dt>Next poll</dt>
              <dd>
                <Time at={iso(status.next_poll_at)} now={now} />
              </dd>
              <dt>Failures</dt>
              <dd data-failures={status.failures}>
                {status.failures === 0 ? 'none' : `${status.failures} in a row`}
              </dd>
              {status.last_error && (
                <>
                  <dt>Last error</dt>
                  <dd class="error-message">
                    <code>{status.last_error}</code>
                  </dd>
                </>
              )}
              <dt>Lease</dt>
              <dd data-leased={String(status.leased)}>
                {status.leased ? 'held by an instance' : 'free (no instance is polling right now)'}
              </dd>
            </>
          ) : (
            <>
              <dt>Status</dt>
              <dd class="muted">No instance has polled yet.</dd>
            </>
          )}
        </dl>
      </div>
    </section>
  );
}

const iso = (t: string | null) => (t ? new Date(t) : null);
const runsCount = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
