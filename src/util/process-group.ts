import { readdirSync, readFileSync } from 'node:fs';

export interface GroupMember {
  pid: number;
  ppid: number;
  /** Exited, waiting for its parent to reap it. */
  zombie: boolean;
}

const POLL_MS = 20;
/** How long SIGKILLed processes get to be reaped before the last blanket SIGKILL. */
const KILL_WAIT_MS = 1000;
/** A parent that reaps its children does so within microseconds; this is ample. */
const REAP_WAIT_MS = 100;

/** Processes whose process group is `pgid`, read from /proc; undefined where there is no /proc. */
export function groupMembers(pgid: number): GroupMember[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: GroupMember[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we were looking
    }
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid) members.push({ pid: Number(name), ppid: Number(ppid), zombie: state === 'Z' });
  }
  return members;
}

/**
 * Ends every process in a group and resolves once none is left running; returns how many were signalled.
 * Processes are signalled deepest first, so each parent is still alive to reap its children: killing the
 * whole group at once orphans them, and when PID 1 does not reap (Bun as PID 1 in a container) they stay
 * zombies forever. SIGTERM first; whatever still runs after `graceMs` gets SIGKILL. A script that keeps
 * starting commands (a loop) ends with a SIGKILL to the whole group, its last child left for init to reap.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<number> {
  const signalled = new Set<number>();
  const termLeft = await signalLeavesFirst(pgid, 'SIGTERM', Date.now() + graceMs, signalled);
  if (!termLeft) return signalled.size;
  const killSignalled = new Set<number>();
  const killLeft = await signalLeavesFirst(pgid, 'SIGKILL', Date.now() + KILL_WAIT_MS, killSignalled);
  for (const pid of killSignalled) signalled.add(pid);
  // Processes forked while we worked (a loop in the script) or a platform without /proc.
  if (killLeft) signal(-pgid, 'SIGKILL');
  return signalled.size;
}

/** Returns true when group members were still running at the deadline. */
async function signalLeavesFirst(
  pgid: number,
  sig: NodeJS.Signals,
  deadline: number,
  signalled: Set<number>,
): Promise<boolean> {
  const zombieSince = new Map<number, number>();
  for (;;) {
    const members = groupMembers(pgid);
    if (!members) return signalWholeGroup(pgid, sig, deadline, signalled);
    const running = members.filter((m) => !m.zombie);
    if (running.length === 0) return false;
    const now = Date.now();
    if (now >= deadline) return true;
    // A leaf has no running child, and no zombie child its parent may still reap. A parent that has not
    // reaped within REAP_WAIT_MS never will (e.g. bash exec'd into `sleep`), so waiting longer is useless.
    const waitingParents = new Set<number>();
    for (const m of members) {
      if (m.zombie && !zombieSince.has(m.pid)) zombieSince.set(m.pid, now);
      const mayBeReaped = m.zombie && now - (zombieSince.get(m.pid) ?? now) < REAP_WAIT_MS;
      if (!m.zombie || mayBeReaped) waitingParents.add(m.ppid);
    }
    for (const m of running) {
      if (waitingParents.has(m.pid) || signalled.has(m.pid)) continue;
      signalled.add(m.pid);
      signal(m.pid, sig);
    }
    await delay(POLL_MS);
  }
}

/** Without /proc the tree is unknown: signal the group and wait until it is gone. */
async function signalWholeGroup(
  pgid: number,
  sig: NodeJS.Signals,
  deadline: number,
  signalled: Set<number>,
): Promise<boolean> {
  if (signal(-pgid, sig)) signalled.add(pgid);
  while (Date.now() < deadline) {
    if (!signal(-pgid, 0)) return false;
    await delay(POLL_MS);
  }
  return true;
}

/** process.kill that reports whether the target exists instead of throwing (EPERM: exists, not ours). */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
