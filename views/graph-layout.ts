import dagre from '@dagrejs/dagre';
import { planLevels } from '../src/workflow/dag.ts';

/** Server-side layout of a workflow's DAG with dagre; the SVG component only draws the result. */

export interface GraphNode {
  id: string;
  /** Second line under the id: the action. */
  detail?: string;
  status?: string;
  href?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `on_failure` / `always`: drawn dashed with the word. */
  label?: string;
  /** Part of a cycle: drawn in the error colour. */
  cycle?: boolean;
}

export interface Point {
  x: number;
  y: number;
}

export interface LaidNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidEdge extends GraphEdge {
  points: Point[];
}

export interface GraphLayout {
  width: number;
  height: number;
  direction: 'LR' | 'TB';
  nodes: LaidNode[];
  edges: LaidEdge[];
}

const NODE_HEIGHT = 46;
const CHAR_WIDTH = 7.4;
const MAX_LABEL = 30;
/** Past this many levels a left-to-right drawing gets too wide for a laptop; top-to-bottom scrolls. */
const MAX_LR_LEVELS = 7;
const MARGIN = 8;

export function clip(text: string, max = MAX_LABEL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function nodeWidth(node: GraphNode): number {
  const longest = Math.max(clip(node.id).length, clip(node.detail ?? '').length * 0.9);
  return Math.round(Math.min(280, Math.max(110, longest * CHAR_WIDTH + 44)));
}

function levelCount(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): number {
  const deps = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) deps.get(e.to)?.push(e.from);
  try {
    return planLevels(nodes.map((n) => ({ id: n.id, dependsOn: deps.get(n.id) ?? [] }))).length;
  } catch {
    return Number.POSITIVE_INFINITY; // a cycle: top to bottom reads best
  }
}

interface Positions {
  width: number;
  height: number;
  direction: 'LR' | 'TB';
  nodes: Map<string, { x: number; y: number; width: number; height: number }>;
  edges: Point[][];
}

/**
 * Layouts by graph shape. dagre takes several milliseconds for 50 tasks, and a run page asks
 * for the same shape (its pinned version) every second while it polls; statuses only colour it.
 */
const cache = new Map<string, Positions>();
const CACHE_SIZE = 500;

/** For benchmarks: the cost of a page whose graph was never laid out. */
export function clearLayoutCache(): void {
  cache.clear();
}

function shapeKey(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): string {
  return JSON.stringify([nodes.map((n) => [n.id, n.detail ?? '']), edges.map((e) => [e.from, e.to])]);
}

function positions(nodes: readonly GraphNode[], drawn: readonly GraphEdge[]): Positions {
  const key = shapeKey(nodes, drawn);
  const hit = cache.get(key);
  if (hit) {
    // Least recently used goes first: re-insert to keep this one.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const direction = levelCount(nodes, drawn) > MAX_LR_LEVELS ? 'TB' : 'LR';
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: direction,
    nodesep: 18,
    ranksep: direction === 'LR' ? 44 : 40,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: nodeWidth(n), height: NODE_HEIGHT });
  drawn.forEach((e, i) => {
    g.setEdge(e.from, e.to, {}, String(i));
  });
  dagre.layout(g);
  const graph = g.graph();
  const laid: Positions = {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    direction,
    nodes: new Map(
      nodes.map((n) => {
        const at = g.node(n.id);
        return [n.id, { x: at.x ?? 0, y: at.y ?? 0, width: at.width, height: at.height }];
      }),
    ),
    edges: drawn.map((e, i) => g.edge(e.from, e.to, String(i))?.points ?? []),
  };
  cache.set(key, laid);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return laid;
}

export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphLayout {
  const ids = new Set(nodes.map((n) => n.id));
  const drawn = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  const laid = positions(nodes, drawn);
  return {
    width: laid.width,
    height: laid.height,
    direction: laid.direction,
    nodes: nodes.map((n) => ({ ...n, ...(laid.nodes.get(n.id) ?? { x: 0, y: 0, width: 0, height: 0 }) })),
    edges: drawn.map((e, i) => ({ ...e, points: laid.edges[i] ?? [] })),
  };
}
