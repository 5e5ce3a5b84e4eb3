// The dedup part of a run report, per dedup stage: pairs compared and their match probabilities,
// cluster sizes, and the largest merged entities with what each compared column contributed.

import type { DedupSummary, TaskRecord } from "../state/run-records.ts";
import { barChart, divergingBars } from "./charts.ts";
import { html, type Markup } from "./html.ts";
import { formatNumber } from "./format.ts";
import { sampleTable } from "./sections.ts";

export function dedupSection(tasks: readonly TaskRecord[]): Markup {
  const withSummary = tasks.filter((t): t is TaskRecord & { dedup: DedupSummary } => t.dedup !== undefined);
  if (!withSummary.length) return html`<p class="empty">No dedup stage ran in this run.</p>`;
  return html`${withSummary.map((t) => dedupStage(t.stage, t.dedup))}`;
}

function dedupStage(stage: string, d: DedupSummary): Markup {
  const bins = d.probabilityHistogram.length;
  const probability = d.probabilityHistogram.map((n, i) => ({
    label: (i / bins).toFixed(2), value: n, title: `${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}: ${formatNumber(n)} pairs`,
    colour: i / bins >= d.threshold ? "#2e9d5b" : "#9aa5b1",
  }));
  const sizes = d.clusterSizes.map(([size, count]) => ({ label: String(size), value: count, title: `${formatNumber(count)} entities of ${size} records` }));
  return html`<div class="dedup-stage" data-stage="${stage}">
<h3>${stage}</h3>
<div class="stats">
<div class="stat"><b>${formatNumber(d.records)}</b><span>records</span></div>
<div class="stat"><b>${formatNumber(d.candidatePairs)}</b><span>pairs compared</span></div>
<div class="stat"><b>${formatNumber(d.links)}</b><span>links kept (p ≥ ${d.keptAbove})</span></div>
<div class="stat"><b>${formatNumber(d.entities)}</b><span>entities</span></div>
</div>
<div class="charts">
<figure><figcaption>Match probability of the pairs compared (green: matches, p ≥ ${d.threshold})</figcaption>${barChart(probability, { width: 420, ariaLabel: `match probability histogram of ${stage}`, labelEvery: 4, className: "probability-histogram" })}</figure>
<figure><figcaption>Cluster sizes (records per entity)</figcaption>${barChart(sizes, { width: 320, colour: "#7b61c9", ariaLabel: `cluster size histogram of ${stage}`, className: "cluster-histogram" })}</figure>
</div>
<h4>Largest merged entities</h4>
${d.largest.length ? d.largest.map((e) => html`<div class="entity">
<div class="entity-head">entity <code>${e.entityId}</code>: ${formatNumber(e.size)} records</div>
<div class="entity-body">
<figure><figcaption>Mean weight per column over the links that joined it</figcaption>${divergingBars(Object.entries(e.contributions).map(([label, value]) => ({ label, value })), { ariaLabel: `column contributions for entity ${e.entityId}` })}</figure>
${sampleTable(e.members)}
</div></div>`) : html`<p class="empty">No records were merged.</p>`}
</div>`;
}
