// The tables of a run report: tasks (rows, bytes, time, checkpoints), check results with their sample
// rows, and schema changes. Every value is data and goes through `html`.

import type { CheckResult, RunRecord, SampleRow, TaskRecord } from "../state/run-records.ts";
import type { CursorPosition } from "../sources/source.ts";
import type { StageSchemaChange } from "./data.ts";
import { html, type Markup } from "./html.ts";
import { formatBytes, formatDuration, formatNumber, formatTime } from "./format.ts";
import { orderTasks } from "./timeline.ts";

export function tasksTable(run: RunRecord): Markup {
  const rows = orderTasks(Object.values(run.tasks)).map((t) => html`<tr class="status-${t.status}" data-task="${t.task}">
<td>${t.task}</td><td>${t.kind}</td><td><span class="badge ${t.status}">${t.status}</span></td><td class="num">${t.attempt ?? ""}</td>
<td class="num">${formatNumber(t.rowsIn)}</td><td class="num">${formatNumber(t.rowsOut)}</td><td class="num">${formatNumber(t.quarantined || undefined)}</td>
<td class="num">${formatBytes(t.bytes)}</td><td class="num">${formatDuration(t.durationMs)}</td>
<td class="cursor">${cursor(t.checkpointBefore)}</td><td class="cursor">${cursor(t.checkpointAfter)}</td>
<td class="note">${t.error ? html`<span class="error">${t.error}</span>` : t.note}</td></tr>`);
  return html`<table id="tasks" class="data"><thead><tr><th>task</th><th>kind</th><th>status</th><th>attempt</th><th>rows in</th><th>rows out</th><th>quarantined</th><th>bytes</th><th>duration</th><th>checkpoint before</th><th>checkpoint after</th><th>note</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function cursor(position: CursorPosition | null | undefined): string {
  if (position === undefined) return "";
  if (position === null) return "(none)";
  return position.columns.map((c, i) => `${c} = ${position.values[i] ?? "NULL"}`).join(", ");
}

export function checksTable(run: RunRecord): Markup {
  const checks = orderTasks(Object.values(run.tasks)).flatMap((t) => (t.checks ?? []).map((c) => ({ task: t, check: c })));
  if (!checks.length) return html`<p class="empty" id="checks">No checks ran in this run.</p>`;
  const rows = checks.map(({ task, check }) => html`<tr class="check ${outcome(check)}">
<td>${task.stage}</td><td>${check.name}</td><td>${check.kind}</td><td>${check.severity}</td>
<td><span class="badge ${outcome(check)}">${outcome(check)}</span></td><td class="num">${check.passed ? "" : formatNumber(check.failingRows)}</td>
<td>${check.detail}${check.sample?.length ? html`<details><summary>${check.severity === "drop" ? "quarantined rows" : "failing rows"} (sample of ${check.sample.length})</summary>${sampleTable(check.sample)}</details>` : ""}</td></tr>`);
  return html`<table id="checks" class="data"><thead><tr><th>stage</th><th>check</th><th>kind</th><th>severity</th><th>result</th><th>failing rows</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** passed, warned, dropped (quarantined) or failed. */
export function outcome(check: CheckResult): "passed" | "warned" | "dropped" | "failed" {
  if (check.passed) return "passed";
  return check.severity === "fail" ? "failed" : check.severity === "drop" ? "dropped" : "warned";
}

export function sampleTable(rows: readonly SampleRow[]): Markup {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return html`<div class="scroll"><table class="sample"><thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows.map((r) =>
    html`<tr>${columns.map((c) => (r[c] === null || r[c] === undefined ? html`<td class="null">NULL</td>` : html`<td>${r[c]}</td>`))}</tr>`)}</tbody></table></div>`;
}

export function schemaChangesTable(changes: readonly StageSchemaChange[]): Markup {
  if (!changes.length) return html`<p class="empty" id="schema-changes">No schema changes in this run.</p>`;
  const rows = changes.map((c) => html`<tr><td>${c.stage}</td><td>${formatTime(c.at)}</td>
<td>${c.added.map((a) => html`<div><code>${a.name}</code> ${a.duckType} <span class="muted">(source ${a.sourceType})</span></div>`)}</td>
<td>${c.widened.map((w) => html`<div><code>${w.column}</code> ${w.from} → ${w.to}</div>`)}</td></tr>`);
  return html`<table id="schema-changes" class="data"><thead><tr><th>stage</th><th>at</th><th>columns added</th><th>columns widened</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Totals for the header: rows read and written, bytes, tasks per status. */
export function runTotals(run: RunRecord): { rowsIn: number; rowsOut: number; bytes: number; byStatus: Record<string, number> } {
  const tasks: TaskRecord[] = Object.values(run.tasks);
  const byStatus: Record<string, number> = {};
  for (const t of tasks) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const sum = (f: (t: TaskRecord) => number | undefined) => tasks.reduce((n, t) => n + (f(t) ?? 0), 0);
  return { rowsIn: sum((t) => t.rowsIn), rowsOut: sum((t) => t.rowsOut), bytes: sum((t) => t.bytes), byStatus };
}
