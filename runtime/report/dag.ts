// The pipeline DAG as inline SVG, stages coloured by their status in the run. A layered layout: a
// stage's column is the longest path from a source to it; within a column, stages are ordered by the
// mean position of their neighbours (a few sweeps each way), which untangles most crossings.

import type { PipelineGraph, StageNode } from "./data.ts";
import { html, type Markup } from "./html.ts";
import { STATUS_COLOURS, type StageStatus } from "./status.ts";

const NODE = { width: 168, height: 44 } as const;
const GAP = { x: 64, y: 16 } as const;
const MARGIN = 12;
const SWEEPS = 4;

export interface PlacedNode {
  readonly stage: StageNode;
  readonly x: number;
  readonly y: number;
}

export interface DagLayout {
  readonly nodes: ReadonlyMap<string, PlacedNode>;
  readonly width: number;
  readonly height: number;
}

export function layoutDag(graph: PipelineGraph): DagLayout {
  const byName = new Map(graph.stages.map((s) => [s.name, s]));
  const column = new Map<string, number>();
  const columnOf = (name: string, seen = new Set<string>()): number => {
    const known = column.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle is refused by the loader; never loop on one here
    seen.add(name);
    const inputs = (byName.get(name)?.inputs ?? []).filter((i) => byName.has(i));
    const c = inputs.length ? 1 + Math.max(...inputs.map((i) => columnOf(i, seen))) : 0;
    column.set(name, c);
    return c;
  };
  const columns: string[][] = [];
  for (const s of graph.stages) (columns[columnOf(s.name)] ??= []).push(s.name);
  for (let i = 0; i < columns.length; i++) columns[i] ??= [];

  const outputs = new Map<string, string[]>();
  for (const s of graph.stages) for (const i of s.inputs) if (byName.has(i)) (outputs.get(i) ?? outputs.set(i, []).get(i)!).push(s.name);
  const position = new Map<string, number>();
  const index = () => columns.forEach((names) => names.forEach((n, i) => position.set(n, i)));
  index();
  const sortBy = (names: string[], neighbours: (n: string) => readonly string[]) => {
    const key = new Map(names.map((n) => {
      const ps = neighbours(n).map((m) => position.get(m)).filter((p): p is number => p !== undefined);
      return [n, ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : position.get(n)!] as const;
    }));
    names.sort((a, b) => key.get(a)! - key.get(b)!);
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let c = 1; c < columns.length; c++) {
      sortBy(columns[c], (n) => byName.get(n)!.inputs);
      index();
    }
    for (let c = columns.length - 2; c >= 0; c--) {
      sortBy(columns[c], (n) => outputs.get(n) ?? []);
      index();
    }
  }

  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = MARGIN * 2 + tallest * NODE.height + (tallest - 1) * GAP.y;
  const nodes = new Map<string, PlacedNode>();
  columns.forEach((names, c) => {
    // Centre each column vertically, so short columns sit beside the middle of tall ones.
    const own = names.length * NODE.height + (names.length - 1) * GAP.y;
    const top = MARGIN + (height - 2 * MARGIN - own) / 2;
    names.forEach((n, i) => nodes.set(n, { stage: byName.get(n)!, x: MARGIN + c * (NODE.width + GAP.x), y: top + i * (NODE.height + GAP.y) }));
  });
  return { nodes, width: MARGIN * 2 + columns.length * NODE.width + (columns.length - 1) * GAP.x, height };
}

export interface DagNodeInfo {
  readonly status: StageStatus;
  /** A short second line: rows out and time, or why it did not run. */
  readonly detail: string;
  /** The hover text. */
  readonly title: string;
}

export function dagSvg(graph: PipelineGraph, info: (stage: StageNode) => DagNodeInfo): Markup {
  const layout = layoutDag(graph);
  const edges: Markup[] = [];
  for (const target of layout.nodes.values()) {
    for (const input of target.stage.inputs) {
      const source = layout.nodes.get(input);
      if (!source) continue;
      const x1 = source.x + NODE.width, y1 = source.y + NODE.height / 2, x2 = target.x, y2 = target.y + NODE.height / 2;
      const mid = (x1 + x2) / 2;
      edges.push(html`<path class="edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}" marker-end="url(#arrow)"/>`);
    }
  }
  const nodes = [...layout.nodes.values()].map((n) => {
    const i = info(n.stage);
    const dark = i.status === "not run" || i.status === "skipped" || i.status === "pending";
    return html`<g class="node layer-${n.stage.layer}" data-stage="${n.stage.name}" data-status="${i.status}" transform="translate(${n.x},${n.y})" tabindex="0">
<title>${i.title}</title>
<rect width="${NODE.width}" height="${NODE.height}" rx="6" fill="${STATUS_COLOURS[i.status]}"${i.status === "not run" ? html` stroke-dasharray="4 3"` : ""}/>
<text x="10" y="18" class="${dark ? "ink" : "light"}">${clip(n.stage.name, 22)}</text>
<text x="10" y="34" class="${dark ? "ink small" : "light small"}">${clip(i.detail, 28)}</text>
</g>`;
  });
  return html`<svg id="dag" class="dag" role="img" aria-label="pipeline graph" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#7b8794"/></marker></defs>
${edges}
${nodes}
</svg>`;
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
