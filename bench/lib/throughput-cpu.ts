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
