// The run report: one self-contained HTML page for one run, from the run record and the pipeline's
// graph. Pure: the same data gives the same page, so tests and the benchmark render it without a lake.

import type { RunRecord } from "../state/run-records.ts";
import { dagSvg } from "./dag.ts";
import type { RunReportData, StageNode } from "./data.ts";
import { dedupSection } from "./dedup-section.ts";
import { formatBytes, formatDuration, formatNumber, formatTime } from "./format.ts";
import { html, type Markup } from "./html.ts";
import { page } from "./page.ts";
import { LINEAGE_SCRIPT, lineageSection } from "./lineage-section.ts";
import { checksTable, runTotals, schemaChangesTable, tasksTable } from "./sections.ts";
import { STATUS_COLOURS, stageStatus, type StageStatus, tasksOfStage } from "./status.ts";
import { orderTasks, timelineSvg } from "./timeline.ts";
import { reconciliationTable } from "./reconcile-section.ts";
import { costTable, formatMoney } from "./cost-section.ts";

export function renderRunReport(data: RunReportData): string {
  const { run, graph } = data;
  const totals = runTotals(run);
  const took = run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : undefined;
  const header = html`<h1>${graph.name} · run ${run.runId}<span class="badge ${run.status}">${run.status}</span></h1>
<div class="meta"><span>started ${formatTime(run.startedAt)}</span>${took !== undefined ? html`<span>took ${formatDuration(took)}</span>` : ""}<span>trigger ${run.trigger}</span>
<span>${formatNumber(totals.rowsIn)} rows in · ${formatNumber(totals.rowsOut)} rows out · ${formatBytes(totals.bytes)} written</span>
<span>${Object.entries(totals.byStatus).map(([s, n]) => `${n} ${s}`).join(", ")}</span>${run.cost ? html`<span>≈ ${formatMoney(run.cost.amount.total, run.cost.currency)} on Azure</span>` : ""}</div>
${run.error ? html`<div class="meta error-line">failed at ${run.error.stage}: ${run.error.message}</div>` : ""}`;
  const body = html`
<section id="dag-section"><h2>Pipeline</h2>${legend()}<div class="scroll">${dagSvg(graph, (s) => nodeInfo(run, s))}</div></section>
<section id="timeline-section"><h2>Timeline</h2><div class="scroll">${timelineSvg(run)}</div></section>
<section id="tasks-section"><h2>Tasks</h2><div class="scroll">${tasksTable(run)}</div></section>
<section id="checks-section"><h2>Checks</h2><div class="scroll">${checksTable(run)}</div></section>
<section id="reconcile-section"><h2>Reconciliation with sources</h2><div class="scroll">${reconciliationTable(orderTasks(Object.values(run.tasks)))}</div></section>
<section id="cost-section"><h2>Cost estimate</h2><div class="scroll">${costTable(run, orderTasks(Object.values(run.tasks)))}</div></section>
<section id="schema-section"><h2>Schema changes</h2>${schemaChangesTable(data.schemaChanges)}</section>
<section id="lineage-section"><h2>Column lineage</h2>${lineageSection(graph, run)}</section>
<section id="dedup-section"><h2>Dedup</h2>${dedupSection(Object.values(run.tasks))}</section>
<footer class="muted">Generated ${formatTime(data.generatedAt)} by mallard from the run record in the lake.</footer>`;
  return page({ title: `${graph.name} run ${run.runId} (${run.status})`, header, body, script: LINEAGE_SCRIPT });
}

function legend(): Markup {
  const shown: StageStatus[] = ["succeeded", "failed", "abandoned", "running", "skipped", "not run"];
  return html`<div class="legend">${shown.map((s) => html`<span><i style="background:${STATUS_COLOURS[s]};border:1px solid #9aa5b1"></i>${s}</span>`)}</div>`;
}

function nodeInfo(run: RunRecord, stage: StageNode) {
  const status = stageStatus(run, stage.name);
  const tasks = tasksOfStage(run, stage.name);
  const own = tasks.find((t) => t.task === stage.name) ?? tasks[0];
  const detail = status === "not run" ? "not in this run"
    : status === "succeeded" ? `${formatNumber(own?.rowsOut)} rows · ${formatDuration(own?.durationMs)}`
    : status === "skipped" ? "skipped"
    : status;
  const title = `${stage.name} (${stage.kind}): ${status}\n${stage.description}${own?.error ? `\n${own.error}` : own?.note ? `\n${own.note}` : ""}`;
  return { status, detail, title };
}
