import { describe, expect, it } from 'vitest';
import type { Problem } from '../../../src/errors.ts';
import { escapeData, escapeProperty, formatProblems } from '../../../src/workflow/problems-format.ts';

const problems: Problem[] = [
  { file: 'workflows/a.yaml', line: 3, column: 5, message: 'unknown key "x" in task "b"', path: 'tasks.b.x' },
  { file: 'workflows/b.yaml', line: 1, column: 1, message: 'the workflow file must be a mapping' },
];

describe('formatProblems', () => {
  it('prints file:line:column: message, one per line', () => {
    expect(formatProblems(problems, 'text')).toBe(
      'workflows/a.yaml:3:5: unknown key "x" in task "b"\nworkflows/b.yaml:1:1: the workflow file must be a mapping',
    );
  });

  it('prints a JSON array that round-trips', () => {
    expect(JSON.parse(formatProblems(problems, 'json'))).toEqual(problems);
    expect(formatProblems([], 'json')).toBe('[]');
  });

  it('prints GitHub Actions error commands', () => {
    expect(formatProblems(problems, 'github').split('\n')).toEqual([
      '::error file=workflows/a.yaml,line=3,col=5::unknown key "x" in task "b"',
      '::error file=workflows/b.yaml,line=1,col=1::the workflow file must be a mapping',
    ]);
  });

  it('escapes %, CR and LF in messages, and also : and , in properties', () => {
    const odd: Problem = { file: 'C:\\w,1.yaml', line: 2, column: 3, message: '100% sure\r\nnext: a, b' };
    expect(formatProblems([odd], 'github')).toBe(
      '::error file=C%3A\\w%2C1.yaml,line=2,col=3::100%25 sure%0D%0Anext: a, b',
    );
    expect(escapeData('%0A')).toBe('%250A');
    expect(escapeProperty('a:b,c%')).toBe('a%3Ab%2Cc%25');
  });

  it('prints nothing for no problems in text and github form', () => {
    expect(formatProblems([], 'text')).toBe('');
    expect(formatProblems([], 'github')).toBe('');
  });
});
