import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const HZ = 100;

/** CPU seconds (user + system) a process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / HZ;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of each live `JITWorker` thread (JavaScriptCore's compiler) of a process, by thread id. */
function jitThreads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      if (readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() !== 'JITWorker') continue;
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${pid}/${task}`, (Number(fields[11]) + Number(fields[12])) / HZ);
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/**
 * CPU seconds the processes spent compiling JavaScript (their `JITWorker` threads) between start
 * and `stop()`. JSC ends idle compiler threads and starts new ones, so the threads are read every
 * 200 ms and each thread's growth is summed: a lower bound (what a thread used after its last
 * reading and before it ended is missed).
 */
export function jitMeter(pids: number[]) {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const read = () => {
    for (const pid of pids) {
      for (const [tid, seconds] of jitThreads(pid)) {
        // A thread that started after the meter did has used all its time inside the window.
        if (!first.has(tid)) first.set(tid, 0);
        last.set(tid, seconds);
      }
    }
  };
  for (const pid of pids) for (const [tid, seconds] of jitThreads(pid)) first.set(tid, seconds);
  const timer = setInterval(read, 200);
  return {
    stop(): number {
      clearInterval(timer);
      read();
      let total = 0;
      for (const [tid, seconds] of last) total += seconds - (first.get(tid) ?? 0);
      return total;
    },
  };
}

/** CPU seconds used by every live process whose command name starts with `name` (postgres, redis-server). */
export function cpuSecondsByName(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm.startsWith(name)) total += cpuSeconds(Number(entry)) || 0;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** CPU use of named parts of the system between `start()` and `stop()`, in seconds. */
export function cpuMeter(parts: Record<string, () => number>) {
  const first: Record<string, number> = {};
  for (const [k, read] of Object.entries(parts)) first[k] = read();
  return {
    stop(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const [k, read] of Object.entries(parts)) out[k] = read() - (first[k] ?? 0);
      return out;
    },
  };
}
