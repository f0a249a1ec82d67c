import type { $ZodIssue } from 'zod/v4/core';

/*
 * Reads zod v4 schema definitions (`schema._zod.def`) to find which keys an object accepts at a
 * path, for did-you-mean suggestions and for checking templated action inputs key by key.
 */

interface Def {
  type: string;
  [key: string]: unknown;
}

export interface SchemaLike {
  _zod: { def: Def; optin?: string };
  safeParse(value: unknown): { success: boolean; error?: { issues: $ZodIssue[] } };
}

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'catch',
  'readonly',
  'nonoptional',
  'success',
]);

function def(schema: SchemaLike): Def {
  return schema._zod.def;
}

/** The concrete schemas behind wrappers, pipes, lazies, unions and intersections. */
export function unwrap(schema: SchemaLike, depth = 0): SchemaLike[] {
  if (depth > 20) return [];
  const d = def(schema);
  const next = (s: unknown) => unwrap(s as SchemaLike, depth + 1);
  if (WRAPPERS.has(d.type)) return next(d.innerType);
  if (d.type === 'pipe') {
    // preprocess is pipe(transform, schema); `.transform()` is pipe(schema, transform): keep the real schema
    const input = d.in as SchemaLike;
    return next(def(input).type === 'transform' ? d.out : input);
  }
  if (d.type === 'lazy') return next((d.getter as () => unknown)());
  if (d.type === 'union') return (d.options as SchemaLike[]).flatMap(next);
  if (d.type === 'intersection') return [...next(d.left), ...next(d.right)];
  return [schema];
}

/** The schemas that could validate the value at `path`. */
export function schemasAt(root: SchemaLike, path: readonly PropertyKey[]): SchemaLike[] {
  let current = unwrap(root);
  for (const segment of path) {
    const found: SchemaLike[] = [];
    for (const schema of current) {
      const d = def(schema);
      let child: unknown;
      if (d.type === 'object') {
        const shape = d.shape as Record<string, SchemaLike>;
        child = Object.hasOwn(shape, String(segment)) ? shape[String(segment)] : d.catchall;
      } else if (d.type === 'record' || d.type === 'map') child = d.valueType;
      else if (d.type === 'array' && typeof segment === 'number') child = d.element;
      else if (d.type === 'tuple' && typeof segment === 'number')
        child = (d.items as SchemaLike[])[segment] ?? d.rest;
      if (child) found.push(...unwrap(child as SchemaLike));
    }
    current = found;
  }
  return current;
}

/** Every key the object schemas at `path` accept (did-you-mean candidates). */
export function objectKeysAt(root: SchemaLike, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(root, path)) {
    if (def(schema).type === 'object')
      for (const key of Object.keys(def(schema).shape as object)) keys.add(key);
  }
  return [...keys];
}

export interface ObjectShape {
  shape: Record<string, SchemaLike>;
  /** Unknown keys are errors (strictObject). */
  strict: boolean;
}

/** The shape of a schema that is one object (behind wrappers), or undefined. */
export function objectShape(schema: SchemaLike): ObjectShape | undefined {
  const objects = unwrap(schema);
  const only = objects.length === 1 ? objects[0] : undefined;
  if (!only || def(only).type !== 'object') return undefined;
  const catchall = def(only).catchall as SchemaLike | undefined;
  return {
    shape: def(only).shape as Record<string, SchemaLike>,
    strict: catchall ? def(catchall).type === 'never' : false,
  };
}

/** A key that must be present: neither optional nor defaulted. */
export function isRequired(schema: SchemaLike): boolean {
  return schema._zod.optin === undefined;
}
