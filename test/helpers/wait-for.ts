/** Polls until `check` returns a truthy value (or stops throwing); fails with the last reason. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
  const why = last instanceof Error ? last.message : JSON.stringify(last);
  throw new Error(
    `${options.message ?? 'condition not met'} within ${options.timeoutMs ?? 5000}ms (last: ${why})`,
  );
}
