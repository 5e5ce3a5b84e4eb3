// Column lineage in the run report: each model's columns (gold first) as buttons; clicking one shows the
// tree of input columns it is computed from, followed through every model of the run down to bronze,
// and marks the stages involved in the DAG. The trees are rendered here (escaped) and only shown by the
// page's script, so no data ever passes through script.

import type { RunRecord } from "../state/run-records.ts";
import type { PipelineGraph, StageNode } from "./data.ts";
import { html, type Markup } from "./html.ts";
import { tasksOfStage } from "./status.ts";

interface SourceNode {
  readonly stage: string;
  /** The table it is a column of: the stage's own, or a companion (`people__entities`). */
  readonly table: string;
  readonly column: string;
  readonly sources: readonly SourceNode[];
}

/** Far enough for any real pipeline; stops a malformed record from recursing forever. */
const MAX_DEPTH = 32;

export function lineageSection(graph: PipelineGraph, run: RunRecord): Markup {
  const stages = new Map(graph.stages.map((s) => [s.name, s]));
  const lineageOf = (stage: string) => tasksOfStage(run, stage).find((t) => t.lineage)?.lineage;
  const models = graph.stages.filter((s) => lineageOf(s.name)).sort((a, b) => layerOrder(a) - layerOrder(b));
  if (!models.length) return html`<p class="empty">No model in this run recorded its column lineage.</p>`;

  const resolve = (stage: StageNode, source: string, depth: number): SourceNode => {
    const dot = source.indexOf(".");
    const view = dot < 0 ? source : source.slice(0, dot);
    const column = dot < 0 ? "" : source.slice(dot + 1);
    const input = stage.views[view] ?? companionOwner(stage, view);
    const target = input ? stages.get(input) : undefined;
    if (!target) return { stage: view, table: view, column, sources: [] };
    const table = stage.views[view] ? target.name : `${target.name}${view.slice(view.indexOf("__"))}`;
    const upstream = table === target.name && depth < MAX_DEPTH ? lineageOf(target.name)?.[column] ?? [] : [];
    return { stage: target.name, table, column, sources: upstream.map((s) => resolve(target, s, depth + 1)) };
  };

  const blocks = models.map((stage) => {
    const lineage = lineageOf(stage.name)!;
    const columns = Object.keys(lineage);
    return html`<div class="lineage-stage" data-stage="${stage.name}"><h3>${stage.name} <span class="muted">${stage.kind}</span></h3>
<div class="columns">${columns.map((c, i) => html`<button type="button" class="column" data-target="${`lineage-${stage.name}-${i}`}">${c}</button>`)}</div>
${columns.map((c, i) => {
  const tree = lineage[c].map((s) => resolve(stage, s, 1));
  const involved = new Set<string>([stage.name]);
  const walk = (n: SourceNode) => { involved.add(n.stage); n.sources.forEach(walk); };
  tree.forEach(walk);
  return html`<div class="lineage-tree" id="${`lineage-${stage.name}-${i}`}" data-stages="${[...involved].join(" ")}" hidden>
<div><code>${stage.name}.${c}</code> is computed from:</div>${tree.length ? sourceList(tree) : html`<p class="empty">no input column (a constant or a row count)</p>`}</div>`;
})}</div>`;
  });
  return html`<p class="muted">Click a column to see the input columns it is computed from, down to bronze (from DuckDB's parse of each model's SQL; filters and join keys are not counted).</p>${blocks}`;
}

function sourceList(nodes: readonly SourceNode[]): Markup {
  return html`<ul>${nodes.map((n) => html`<li><code>${n.table}.${n.column}</code>${n.sources.length ? sourceList(n.sources) : ""}</li>`)}</ul>`;
}

/** `people__entities` is a companion of the input read as `people`. */
function companionOwner(stage: StageNode, view: string): string | undefined {
  const split = view.indexOf("__");
  return split > 0 ? stage.views[view.slice(0, split)] : undefined;
}

function layerOrder(stage: StageNode): number {
  return { gold: 0, silver: 1, bronze: 2 }[stage.layer];
}

/** The page script's part: show a column's tree, and mark its stages in the DAG. */
export const LINEAGE_SCRIPT = `
(function () {
  var buttons = document.querySelectorAll("button.column");
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var tree = document.getElementById(b.getAttribute("data-target"));
      var show = tree.hidden;
      document.querySelectorAll(".lineage-tree").forEach(function (t) { t.hidden = true; });
      buttons.forEach(function (x) { x.classList.remove("active"); });
      document.querySelectorAll(".node.lineage").forEach(function (n) { n.classList.remove("lineage"); });
      if (!show) return;
      tree.hidden = false;
      b.classList.add("active");
      var stages = tree.getAttribute("data-stages").split(" ");
      document.querySelectorAll(".node").forEach(function (n) { if (stages.indexOf(n.getAttribute("data-stage")) >= 0) n.classList.add("lineage"); });
    });
  });
})();
`;
