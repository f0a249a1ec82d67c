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

export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): GraphLayout {
  const ids = new Set(nodes.map((n) => n.id));
  const drawn = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  const direction = levelCount(nodes, drawn) > MAX_LR_LEVELS ? 'TB' : 'LR';
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: direction,
    nodesep: 18,
    ranksep: direction === 'LR' ? 44 : 32,
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
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    direction,
    nodes: nodes.map((n) => {
      const laid = g.node(n.id);
      return { ...n, x: laid.x ?? 0, y: laid.y ?? 0, width: laid.width, height: laid.height };
    }),
    edges: drawn.map((e, i) => ({ ...e, points: g.edge(e.from, e.to, String(i))?.points ?? [] })),
  };
}
