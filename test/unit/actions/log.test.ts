import { describe, expect, it } from 'vitest';
import log from '../../../actions/log.ts';
import { callAction } from '../../helpers/action-context.ts';

describe('log action', () => {
  it('logs at info by default', async () => {
    const { output, lines } = await callAction(log, { message: 'hello' });
    expect(output).toEqual({ message: 'hello' });
    expect(lines).toEqual([{ level: 'info', message: 'hello' }]);
  });

  it('logs at each requested level', async () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const { lines } = await callAction(log, { message: `at ${level}`, level });
      expect(lines).toEqual([{ level, message: `at ${level}` }]);
    }
  });

  it('logs objects and lists as JSON, numbers as text and null as empty', async () => {
    const value = { issue: 7, labels: ['bug'] };
    expect((await callAction(log, { message: value })).output.message).toBe(JSON.stringify(value));
    expect((await callAction(log, { message: 42 })).output.message).toBe('42');
    expect((await callAction(log, { message: null })).output.message).toBe('');
  });

  it('rejects an unknown level', async () => {
    await expect(callAction(log, { message: 'x', level: 'loud' })).rejects.toThrow(/level/);
  });
});
