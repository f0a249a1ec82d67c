/** @jsxImportSource hono/jsx */
import type { TaskSpec } from '../../src/workflow/types.ts';
import {
  clip,
  type GraphEdge,
  type GraphNode,
  type LaidEdge,
  type LaidNode,
  layoutGraph,
} from '../graph-layout.ts';
import { statusClass, statusIcon, statusLabel } from './status.tsx';

/** Nodes and edges of a workflow's tasks; statuses (a run's) colour the nodes. */
export function graphOf(
  tasks: readonly Pick<TaskSpec, 'id' | 'action' | 'dependsOn' | 'when'>[],
  statuses?: ReadonlyMap<string, string>,
  link?: (id: string) => string,
): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = tasks.map((t) => {
    const node: GraphNode = { id: t.id, detail: t.action };
    const status = statuses?.get(t.id);
    if (statuses) node.status = status ?? 'pending';
    if (link) node.href = link(t.id);
    return node;
  });
  const edges = tasks.flatMap((t) =>
    t.dependsOn.map((from) => ({ from, to: t.id, ...(t.when !== 'on_success' ? { label: t.when } : {}) })),
  );
  return { nodes, edges };
}

function pathOf(points: readonly { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}

function Node({ node }: { node: LaidNode }) {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  const title = node.status ? `${node.id}: ${statusLabel(node.status)}` : node.id;
  const body = (
    <g class={`dag-node ${node.status ? statusClass(node.status) : 'st-none'}`} data-task={node.id}>
      <title>{title}</title>
      <rect x={left} y={top} width={node.width} height={node.height} rx="6" />
      {node.status && (
        <text class="dag-icon" x={left + 14} y={node.y + 5} text-anchor="middle">
          {statusIcon(node.status)}
        </text>
      )}
      <text class="dag-id" x={left + (node.status ? 26 : 12)} y={top + 19}>
        {clip(node.id)}
      </text>
      {node.detail && (
        <text class="dag-detail" x={left + (node.status ? 26 : 12)} y={top + 36}>
          {clip(node.detail)}
        </text>
      )}
    </g>
  );
  return node.href ? <a href={node.href}>{body}</a> : body;
}

function Edge({ edge, marker }: { edge: LaidEdge; marker: string }) {
  const mid = edge.points[Math.floor(edge.points.length / 2)];
  const cls = `dag-edge${edge.label ? ' dag-edge-conditional' : ''}${edge.cycle ? ' dag-edge-cycle' : ''}`;
  return (
    <g class={cls}>
      <path d={pathOf(edge.points)} marker-end={`url(#${edge.cycle ? `${marker}-cycle` : marker})`} />
      {edge.label && mid && (
        <text class="dag-edge-label" x={mid.x} y={mid.y - 4} text-anchor="middle">
          {edge.label}
        </text>
      )}
    </g>
  );
}

/**
 * The DAG as an SVG laid out on the server (dagre): no script, readable without colour (each node
 * carries its status icon and a title), scrolls sideways on a phone rather than shrinking.
 */
export function DagSvg({ nodes, edges, id }: { nodes: GraphNode[]; edges: GraphEdge[]; id: string }) {
  if (nodes.length === 0) return <p class="muted">No tasks.</p>;
  const laid = layoutGraph(nodes, edges);
  const marker = `${id}-arrow`;
  return (
    <div class="dag-scroll">
      <svg
        class={`dag dag-${laid.direction.toLowerCase()}`}
        id={id}
        width={laid.width}
        height={laid.height}
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        role="img"
        aria-label={`Task graph with ${nodes.length} task${nodes.length === 1 ? '' : 's'}`}
      >
        <defs>
          <Arrowhead id={marker} class="dag-arrow" />
          <Arrowhead id={`${marker}-cycle`} class="dag-arrow-cycle" />
        </defs>
        {laid.edges.map((e) => (
          <Edge edge={e} marker={marker} />
        ))}
        {laid.nodes.map((n) => (
          <Node node={n} />
        ))}
      </svg>
    </div>
  );
}

/** An edge's arrowhead, referenced by `marker-end` (one per edge style). */
function Arrowhead(props: { id: string; class: string }) {
  return (
    <marker
      id={props.id}
      viewBox="0 0 10 10"
      refX="9"
      refY="5"
      markerWidth="7"
      markerHeight="7"
      orient="auto"
    >
      <path d="M0 0 L10 5 L0 10 z" class={props.class} />
    </marker>
  );
}
