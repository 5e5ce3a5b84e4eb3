// The page every report is served in: one HTML document with its CSS and script inline and a
// Content-Security-Policy that allows nothing else. No request leaves the page, and the only script that
// runs is this module's own (allowed by its hash), so even markup that slipped through could not run.

import { createHash } from "node:crypto";
import { html, type Markup, raw } from "./html.ts";

const STYLE = `
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --bg:#f7f9fb; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
body { margin: 0; background: var(--bg); }
header { background: #102a43; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header .meta { color: #bcccdc; font-size: 13px; }
header .meta span { margin-right: 18px; }
main { padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 16px 0; padding: 12px 16px; }
section > h2 { font-size: 16px; margin: 4px 0 12px; }
h3 { font-size: 15px; margin: 12px 0 6px; } h4 { font-size: 13px; margin: 12px 0 6px; color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 12.5px; }
table.data { width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.cursor { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; max-width: 220px; overflow-wrap: anywhere; }
td.note { max-width: 360px; overflow-wrap: anywhere; color: var(--muted); }
td.null { color: #9aa5b1; font-style: italic; }
table.sample td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; white-space: pre-wrap; max-width: 260px; overflow-wrap: anywhere; }
.error { color: #b42318; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 11.5px; color: #fff; background: #9aa5b1; }
.badge.succeeded, .badge.passed { background: #2e9d5b; } .badge.failed { background: #d64545; } .badge.abandoned, .badge.warned { background: #e08a1e; }
.badge.dropped { background: #7b61c9; } .badge.running { background: #3b7dd8; } .badge.skipped, .badge.pending { background: #9aa5b1; }
header .badge { font-size: 13px; vertical-align: middle; margin-left: 8px; }
svg text { font-size: 12px; fill: var(--ink); }
svg text.small { font-size: 10.5px; } svg text.light { fill: #fff; } svg text.ink { fill: var(--ink); }
svg text.axis, svg text.note { font-size: 10.5px; fill: var(--muted); }
svg .edge { fill: none; stroke: #7b8794; stroke-width: 1.4; }
svg .node { cursor: pointer; } svg .node:hover rect, svg .node:focus rect, svg .node.selected rect { stroke: #102a43; stroke-width: 2.5; }
svg .tick { stroke: #e4e7eb; } svg .baseline { stroke: #9aa5b1; }
svg text.label.partition { fill: var(--muted); }
tr.highlight td { background: #fff8c5; }
.stats { display: flex; gap: 24px; flex-wrap: wrap; margin: 6px 0 10px; }
.stat b { display: block; font-size: 20px; } .stat span { color: var(--muted); font-size: 12px; }
.charts, .entity-body { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.entity { border-top: 1px solid var(--line); padding: 8px 0; } .entity-head { font-size: 13px; margin-bottom: 6px; }
.empty { color: var(--muted); font-style: italic; }
.legend span { display: inline-flex; align-items: center; margin-right: 14px; font-size: 12px; color: var(--muted); }
.legend i { width: 12px; height: 12px; border-radius: 3px; margin-right: 5px; display: inline-block; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
button.column { font: 12px ui-monospace, Menlo, Consolas, monospace; margin: 2px; padding: 3px 8px; border: 1px solid var(--line); border-radius: 5px; background: #f0f4f8; cursor: pointer; }
button.column.active { background: #fcefc7; border-color: #b7860b; }
.lineage-tree { margin: 8px 0 4px; padding: 8px 12px; background: #fffbea; border-radius: 6px; font-size: 13px; }
.lineage-tree .column-list { margin: 4px 0 4px 20px; line-height: 1.6; }
svg .node.lineage rect { stroke: #b7860b; stroke-width: 3; }
nav a { color: #bcccdc; margin-right: 14px; font-size: 13px; }
`;

/** Clicking a stage in the DAG highlights its rows in the tables; other behaviour registers on `mallard`. */
const SCRIPT = `
(function () {
  var selected = null;
  function select(stage) {
    document.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
    document.querySelectorAll("tr.highlight").forEach(function (r) { r.classList.remove("highlight"); });
    if (!stage || stage === selected) { selected = null; return; }
    selected = stage;
    document.querySelectorAll(".node").forEach(function (n) { if (n.getAttribute("data-stage") === stage) n.classList.add("selected"); });
    document.querySelectorAll("#tasks tr[data-task]").forEach(function (r) {
      var t = r.getAttribute("data-task");
      if (t === stage || t.indexOf(stage + "#") === 0) r.classList.add("highlight");
    });
    document.dispatchEvent(new CustomEvent("mallard:stage", { detail: stage }));
  }
  document.querySelectorAll(".node").forEach(function (n) {
    n.addEventListener("click", function () { select(n.getAttribute("data-stage")); });
    n.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") select(n.getAttribute("data-stage")); });
  });
})();
`;

export interface PageParts {
  readonly title: string;
  readonly header: Markup;
  readonly body: Markup;
  /** More script, run after the page's own (fixed code of this module's callers, never data). */
  readonly script?: string;
}

export function page(parts: PageParts): string {
  const script = SCRIPT + (parts.script ?? "");
  const hash = createHash("sha256").update(script).digest("base64");
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mallard">
<title>${parts.title}</title>
<style>${raw(STYLE)}</style>
</head><body>
<header>${parts.header}</header>
<main>${parts.body}</main>
<script>${raw(script)}</script>
</body></html>`.text}\n`;
}
