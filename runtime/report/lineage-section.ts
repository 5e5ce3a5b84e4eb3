// Column lineage in the run report: each model's columns (gold first) as buttons; clicking one shows the
// tree of input columns it is computed from, followed through every model of the run down to bronze,
// and marks the stages involved in the DAG. The trees are rendered here (escaped) into <template>s, and
// the page's script only copies a template's markup into the page, so no data ever passes through script.

import type { RunRecord } from "../state/run-records.ts";
import type { PipelineGraph, StageNode } from "./data.ts";
import { html, type Markup } from "./html.ts";
import { tasksOfStage } from "./status.ts";

/** A column of a table: its stage, the table (the stage's own, or a companion such as `people__entities`), the column. */
interface ColumnRef {
  readonly stage: string;
  readonly table: string;
  readonly column: string;
}

interface Origins {
  /** The columns it comes from that no recorded lineage explains further (bronze columns, dedup outputs). */
  readonly columns: ReadonlyMap<string, ColumnRef>;
  readonly stages: ReadonlySet<string>;
}

export function lineageSection(graph: PipelineGraph, run: RunRecord): Markup {
  const stages = new Map(graph.stages.map((s) => [s.name, s]));
  const lineageOf = (stage: string) => tasksOfStage(run, stage).find((t) => t.lineage)?.lineage;
  const models = graph.stages.filter((s) => lineageOf(s.name)).sort((a, b) => layerOrder(a) - layerOrder(b));
  if (!models.length) return html`<p class="empty">No model in this run recorded its column lineage.</p>`;

  const refOf = (stage: StageNode, source: string): ColumnRef => {
    const dot = source.indexOf(".");
    const view = dot < 0 ? source : source.slice(0, dot);
    const column = dot < 0 ? "" : source.slice(dot + 1);
    const input = stage.views[view] ?? companionOwner(stage, view);
    if (!input || !stages.has(input)) return { stage: view, table: view, column };
    return { stage: input, table: stage.views[view] ? input : `${input}${view.slice(view.indexOf("__"))}`, column };
  };
  // Memoised per column: a wide pipeline shares its upstream columns, and each is followed once.
  const memo = new Map<string, Origins>();
  const originsOf = (ref: ColumnRef): Origins => {
    const key = `${ref.table}.${ref.column}`;
    const known = memo.get(key);
    if (known) return known;
    memo.set(key, { columns: new Map(), stages: new Set([ref.stage]) }); // a cycle ends here
    const stage = stages.get(ref.stage);
    const upstream = stage && ref.table === stage.name ? lineageOf(stage.name)?.[ref.column] : undefined;
    const columns = new Map<string, ColumnRef>();
    const involved = new Set<string>([ref.stage]);
    if (!upstream?.length || !stage) columns.set(key, ref);
    else for (const source of upstream) {
      const o = originsOf(refOf(stage, source));
      for (const [k, c] of o.columns) columns.set(k, c);
      for (const s of o.stages) involved.add(s);
    }
    const result = { columns, stages: involved };
    memo.set(key, result);
    return result;
  };

  const blocks = models.map((stage) => {
    const lineage = lineageOf(stage.name)!;
    const columns = Object.keys(lineage);
    return html`<div class="lineage-stage" data-stage="${stage.name}"><h3>${stage.name} <span class="muted">${stage.kind}</span></h3>
<div class="columns">${columns.map((c, i) => html`<button type="button" class="column" data-target="${`lineage-${stage.name}-${i}`}">${c}</button>`)}</div>
${columns.map((c, i) => {
  const direct = lineage[c].map((s) => refOf(stage, s));
  const origins = originsOf({ stage: stage.name, table: stage.name, column: c });
  const fromOrigins = [...origins.columns.values()].filter((o) => !(o.table === stage.name && o.column === c));
  // A <template> is parsed but stays out of the document (no style, no layout) until its column is clicked:
  // a pipeline of 200 stages has thousands of these trees.
  return html`<template class="lineage-template" id="${`lineage-${stage.name}-${i}`}" data-stages="${[...origins.stages].join(" ")}">
${direct.length ? html`<div><code>${stage.name}.${c}</code> is computed from ${columnList(direct)}</div>
<div>which come from ${columnList(fromOrigins)}</div>` : html`<p class="empty">no input column (a constant or a row count)</p>`}</template>`;
})}</div>`;
  });
  return html`<p class="muted">Click a column to see the input columns it is computed from, and where those come from at the start of the pipeline (from DuckDB's parse of each model's SQL; filters and join keys are not counted).</p>${blocks}`;
}

/** One line of columns: the element count, not the text, is what a browser pays for. */
function columnList(refs: readonly ColumnRef[]): Markup {
  return html`<div class="column-list"><code>${refs.map((r) => `${r.table}.${r.column}${r.stage !== r.table ? ` (${r.stage})` : ""}`).join(", ")}</code></div>`;
}

/** `people__entities` is a companion of the input read as `people`. */
function companionOwner(stage: StageNode, view: string): string | undefined {
  const split = view.indexOf("__");
  return split > 0 ? stage.views[view.slice(0, split)] : undefined;
}

function layerOrder(stage: StageNode): number {
  return { gold: 0, silver: 1, bronze: 2 }[stage.layer];
}

/** The page script's part: show a column's tree (a copy of its template's markup), and mark its stages in the DAG. */
export const LINEAGE_SCRIPT = `
(function () {
  var buttons = document.querySelectorAll("button.column");
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var template = document.getElementById(b.getAttribute("data-target"));
      var show = !b.classList.contains("active");
      document.querySelectorAll(".lineage-tree").forEach(function (t) { t.remove(); });
      buttons.forEach(function (x) { x.classList.remove("active"); });
      document.querySelectorAll(".node.lineage").forEach(function (n) { n.classList.remove("lineage"); });
      if (!show) return;
      var tree = document.createElement("div");
      tree.className = "lineage-tree";
      tree.appendChild(template.content.cloneNode(true));
      template.after(tree);
      b.classList.add("active");
      var stages = template.getAttribute("data-stages").split(" ");
      document.querySelectorAll(".node").forEach(function (n) { if (stages.indexOf(n.getAttribute("data-stage")) >= 0) n.classList.add("lineage"); });
    });
  });
})();
`;
