import type { $ZodIssue } from 'zod/v4/core';
import { didYouMean } from './did-you-mean.ts';
import { container, describeValue, type Finding, label, subjectOf, valueAt } from './finding.ts';
import type { Path } from './positions.ts';
import { objectKeysAt, type SchemaLike } from './schema-walk.ts';

/** Rewrites zod issues as plain sentences about the YAML the user wrote. */

export interface IssueContext {
  /** The schema the issue paths are relative to (for did-you-mean candidates). */
  schema: SchemaLike;
  /** The whole parsed file, to quote values and name steps. */
  data: unknown;
  /** Where the validated value sits in the file (e.g. `tasks.fetch.inputs`). */
  base?: Path;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  null: 'empty',
  date: 'a date',
};

const FORMAT_NAMES: Record<string, string> = {
  url: 'a URL',
  email: 'an email address',
  uuid: 'a UUID',
  datetime: 'an ISO 8601 date-time',
  date: 'an ISO 8601 date',
  time: 'an ISO 8601 time',
  duration: 'an ISO 8601 duration',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 CIDR range',
  cidrv6: 'an IPv6 CIDR range',
};

export function issuesToFindings(issues: readonly $ZodIssue[], ctx: IssueContext): Finding[] {
  return issues.flatMap((issue) => issueToFindings(issue, ctx));
}

function issueToFindings(issue: $ZodIssue, ctx: IssueContext): Finding[] {
  const path = [...(ctx.base ?? []), ...issue.path];
  const value = valueAt(ctx.data, path);
  const subject = label(path, ctx.data);
  const got = `(got ${describeValue(value)})`;
  const one = (message: string): Finding[] => [{ path, message }];

  switch (issue.code) {
    case 'unrecognized_keys': {
      const candidates = objectKeysAt(ctx.schema, issue.path);
      const isInputs = subjectOf(path, ctx.data).rest.join('.') === 'inputs';
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: 'key',
        message: `unknown ${isInputs ? 'input' : 'key'} "${key}" ${isInputs ? container(path.slice(0, -1), ctx.data) : container(path, ctx.data)}${didYouMean(key, candidates)}`,
      }));
    }
    case 'invalid_type':
      if (value === undefined) return one(`${subject} is required`);
      return one(`${subject} must be ${typeName(issue.expected)} ${got}`);
    case 'invalid_value':
      return one(`${subject} must be ${oneOf(issue.values)} ${got}`);
    case 'invalid_union': {
      if (issue.errors.length === 0) {
        const options = 'options' in issue ? issue.options : undefined;
        return options?.length
          ? one(`${subject} must be ${oneOf(options)} ${got}`)
          : one(`${subject}: ${issue.message}`);
      }
      // A branch that failed inside the value (not on its type) is the one the user meant.
      const meant = issue.errors.find((branch) =>
        branch.some((i) => i.path.length > 0 || i.code !== 'invalid_type'),
      );
      if (meant) {
        const nested = meant.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as $ZodIssue);
        return issuesToFindings(nested, ctx);
      }
      const expected = [
        ...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? typeName(i.expected) : ''))),
      ];
      return one(`${subject} must be ${joinOr(expected.filter(Boolean))} ${got}`);
    }
    case 'too_small':
    case 'too_big':
      return one(`${subject} ${sizeRule(issue)} ${got}`);
    case 'invalid_format': {
      if (issue.format === 'regex') {
        if (!issue.message.startsWith('Invalid'))
          return one(`${subject} is not valid ${got}: ${issue.message}`);
        return one(`${subject} must match ${issue.pattern} ${got}`);
      }
      const extra = issue as { prefix?: string; suffix?: string; includes?: string };
      if (extra.prefix !== undefined) return one(`${subject} must start with "${extra.prefix}" ${got}`);
      if (extra.suffix !== undefined) return one(`${subject} must end with "${extra.suffix}" ${got}`);
      if (extra.includes !== undefined) return one(`${subject} must contain "${extra.includes}" ${got}`);
      return one(`${subject} must be ${FORMAT_NAMES[issue.format] ?? `a valid ${issue.format}`} ${got}`);
    }
    case 'not_multiple_of':
      return one(`${subject} must be a multiple of ${issue.divisor} ${got}`);
    case 'invalid_key':
      return one(`${subject} has an invalid key: ${issue.issues[0]?.message ?? issue.message}`);
    case 'invalid_element':
      return issuesToFindings(
        issue.issues.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as $ZodIssue),
        ctx,
      );
    default:
      return one(`${subject} is invalid: ${issue.message}`);
  }
}

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? `a ${expected}`;
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (shown.length === 1) return JSON.stringify(values[0]);
  return `one of ${shown.join(', ')}`;
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'something else';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function sizeRule(issue: Extract<$ZodIssue, { code: 'too_small' | 'too_big' }>): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const bound = issue.exact
    ? 'exactly'
    : small
      ? issue.inclusive
        ? 'at least'
        : 'more than'
      : issue.inclusive
        ? 'at most'
        : 'less than';
  switch (issue.origin) {
    case 'string':
      if (small && limit === 1 && !issue.exact) return 'must not be empty';
      return `must be ${bound} ${limit} characters long`;
    case 'array':
    case 'set':
      if (small && limit === 1 && !issue.exact) return 'must not be empty';
      return `must have ${bound} ${limit} items`;
    default:
      return `must be ${bound} ${limit}`;
  }
}
