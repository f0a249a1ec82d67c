/** Service logs for serve/worker: one line each on stderr, with time and level. */
export function stderrLog(level: 'info' | 'warn' | 'error', message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
}
