// `mallard plan --format`: the stage graph as text (execution order), Mermaid, Graphviz DOT or JSON, for
// a README, a pull request or another tool. Names are quoted for each format, never pasted in raw.

import type { PipelineGraph } from "./graph.ts";

export const PLAN_FORMATS = ["text", "mermaid", "dot", "json"] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

export function formatPlan(graph: PipelineGraph, format: PlanFormat): string {
  switch (format) {
    case "text":
      return textPlan(graph);
    case "mermaid":
      return mermaidPlan(graph);
    case "dot":
      return dotPlan(graph);
    case "json":
      return `${JSON.stringify(graph, null, 2)}\n`;
  }
}

function textPlan(graph: PipelineGraph): string {
  const lines = [`pipeline ${graph.name} (schedule ${graph.schedule}), ${graph.stages.length} stages in execution order:`];
  graph.stages.forEach((stage, i) => lines.push(`${String(i + 1).padStart(3)}. ${stage.name.padEnd(24)} ${stage.kind.padEnd(13)} ${stage.description}`));
  return `${lines.join("\n")}\n`;
}

const LAYER_STYLE = {
  bronze: { fill: "#f3e0c7", stroke: "#a86b1f" },
  silver: { fill: "#e4e7eb", stroke: "#616e7c" },
  gold: { fill: "#fcefc7", stroke: "#b7860b" },
} as const;

/** Mermaid flowchart; a node id is its index (stage names may hold characters Mermaid ids cannot). */
function mermaidPlan(graph: PipelineGraph): string {
  const id = new Map(graph.stages.map((s, i) => [s.name, `s${i}`]));
  const lines = ["flowchart LR"];
  for (const stage of graph.stages) lines.push(`  ${id.get(stage.name)}["${mermaidText(stage.name)}<br/><small>${mermaidText(stage.kind)}</small>"]:::${stage.layer}`);
  for (const stage of graph.stages) {
    for (const input of stage.inputs) if (id.has(input)) lines.push(`  ${id.get(input)} --> ${id.get(stage.name)}`);
  }
  for (const [layer, style] of Object.entries(LAYER_STYLE)) lines.push(`  classDef ${layer} fill:${style.fill},stroke:${style.stroke}`);
  return `${lines.join("\n")}\n`;
}

/** Mermaid label text: quotes and markup characters as entity codes (`#quot;`). */
function mermaidText(text: string): string {
  return text.replace(/["<>&#]/g, (c) => `#${c.charCodeAt(0)};`);
}

function dotPlan(graph: PipelineGraph): string {
  const lines = [`digraph ${dotString(graph.name)} {`, "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];'];
  for (const stage of graph.stages) {
    const style = LAYER_STYLE[stage.layer];
    lines.push(`  ${dotString(stage.name)} [label=${dotString(`${stage.name}\n${stage.kind}`)}, fillcolor="${style.fill}", color="${style.stroke}"];`);
  }
  for (const stage of graph.stages) {
    for (const input of stage.inputs) lines.push(`  ${dotString(input)} -> ${dotString(stage.name)};`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`. */
function dotString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
