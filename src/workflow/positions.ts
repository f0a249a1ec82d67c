import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import { TASK_ID } from './spec.ts';

/** A path into the document: map keys and list indexes, as zod reports them. */
export type Path = readonly PropertyKey[];

export interface Position {
  line: number;
  column: number;
}

/** `tasks.notify.depends_on[0]`; keys that are not identifiers are quoted: `headers["Content-Type"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && TASK_ID.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

interface Resolved {
  node: Node | null | undefined;
  /** The key of the last map entry walked through. */
  key: Node | undefined;
  /** True when every segment was found. */
  complete: boolean;
}

/** Maps paths in the parsed data back to line/column in the YAML text. */
export class DocumentPositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** Where the value at `path` starts; a missing or empty value points at its key (or closest ancestor). */
  value(path: Path): Position {
    const r = this.resolve(path);
    if (r.complete && r.node && !isEmpty(r.node)) return this.at(r.node);
    return this.at(r.key ?? r.node);
  }

  /** Where the key of the last segment is; list items (which have no key) point at the item. */
  key(path: Path): Position {
    const r = this.resolve(path);
    if (r.complete && r.key && typeof path[path.length - 1] !== 'number') return this.at(r.key);
    return this.value(path);
  }

  /** Where `snippet` appears inside the scalar at `path` (e.g. one `${ }` of a long `run:`). */
  within(path: Path, snippet: string): Position {
    const r = this.resolve(path);
    const range = r.complete && r.node && isScalar(r.node) ? r.node.range : undefined;
    if (range) {
      const index = this.text.slice(range[0], range[1]).indexOf(snippet);
      if (index >= 0) return this.offset(range[0] + index);
    }
    return this.value(path);
  }

  offset(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private at(node: Node | null | undefined): Position {
    const start = node?.range?.[0] ?? this.doc.contents?.range?.[0] ?? 0;
    return this.offset(start);
  }

  private resolve(path: Path): Resolved {
    let node: Node | null | undefined = this.doc.contents;
    let key: Node | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.doc) ?? node;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        if (!pair) return { node, key, complete: false };
        key = (pair.key as Node | null) ?? key;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        key = undefined;
        node = node.items[segment] as Node | null;
      } else {
        return { node, key, complete: false };
      }
    }
    return { node, key, complete: true };
  }
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** `key:` with nothing after it: the parser still makes a null scalar, positioned after the colon. */
function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}
