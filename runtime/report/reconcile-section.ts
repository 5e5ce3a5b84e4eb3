// Reconciliation in the reports: per bronze task of a run, bronze against its source (counts, checksums,
// the drifted keys); in the overview, each bronze stage's latest result and how often it drifted.

import type { Reconciliation, RunRecord, TaskRecord } from "../state/run-records.ts";
import { formatDuration, formatNumber, formatTime } from "./format.ts";
import { html, type Markup } from "./html.ts";
import { sampleTable } from "./sections.ts";

const BADGE = { inSync: "succeeded", drift: "failed", error: "warned" } as const;
const LABEL = { inSync: "in sync", drift: "drift", error: "error" } as const;

export function reconciliationBadge(r: Reconciliation): Markup {
  return html`<span class="badge ${BADGE[r.status]}">${LABEL[r.status]}</span>`;
}

/** The run's reconciliations, one row per bronze task that reconciled. */
export function reconciliationTable(tasks: readonly TaskRecord[]): Markup {
  const done = tasks.filter((t): t is TaskRecord & { reconciliation: Reconciliation } => t.reconciliation !== undefined);
  if (!done.length) return html`<p class="empty" id="reconciliation">No bronze table reconciled with its source in this run.</p>`;
  const rows = done.map(({ stage, reconciliation: r }) => html`<tr class="reconcile ${r.status}" data-stage="${stage}">
<td>${stage}</td><td>${reconciliationBadge(r)}</td><td class="num">${formatNumber(r.source?.rows)}</td><td class="num">${formatNumber(r.lake?.rows)}</td>
<td class="num">${formatNumber(r.missing || undefined)}</td><td class="num">${formatNumber(r.changed || undefined)}</td><td class="num">${formatNumber(r.deleted || undefined)}</td>
<td class="num">${formatNumber(r.pending || undefined)}</td><td>${r.columns.join(", ")}</td>
<td class="cursor">${r.upTo ? r.upTo.columns.map((c, i) => `${c} = ${r.upTo!.values[i] ?? "NULL"}`).join(", ") : "every row"}</td>
<td>${r.method ?? ""}</td><td class="num">${formatDuration(r.durationMs)}</td>
<td class="note">${r.error ? html`<span class="error">${r.error}</span>` : ""}${r.sample?.length ? html`<details><summary>drifted keys (sample of ${r.sample.length})</summary>${sampleTable(r.sample)}</details>` : ""}</td></tr>`);
  return html`<table id="reconciliation" class="data"><thead><tr><th>stage</th><th>result</th><th>source rows</th><th>bronze rows</th><th>missing</th><th>changed</th><th>deleted in source</th><th>pending</th><th>columns</th><th>compared up to</th><th>how</th><th>took</th><th>detail</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="muted">Source rows and checksums over the columns shown, against bronze's latest rows (deletes applied). Pending: changed after the checkpoint, for the next load.</p>`;
}

/** Each bronze stage's latest reconciliation among the runs, and in how many of them it drifted. */
export function reconciliationOverview(runs: readonly RunRecord[]): Markup {
  const byStage = new Map<string, { latest: Reconciliation; drifted: number; count: number }>();
  // Newest first: the first result seen per stage is its latest.
  for (const run of runs) {
    for (const t of Object.values(run.tasks)) {
      if (!t.reconciliation) continue;
      const seen = byStage.get(t.stage) ?? { latest: t.reconciliation, drifted: 0, count: 0 };
      seen.count++;
      if (t.reconciliation.status === "drift") seen.drifted++;
      byStage.set(t.stage, seen);
    }
  }
  if (!byStage.size) return html`<p class="empty" id="reconciliation-overview">No bronze table reconciled with its source in the runs shown (declare reconcile on a bronze stage).</p>`;
  const rows = [...byStage].sort(([a], [b]) => a.localeCompare(b)).map(([stage, { latest: r, drifted, count }]) => html`<tr data-stage="${stage}">
<td>${stage}</td><td>${reconciliationBadge(r)}</td><td>${formatTime(r.at)}</td><td class="num">${formatNumber(r.source?.rows)}</td><td class="num">${formatNumber(r.lake?.rows)}</td>
<td class="num">${formatNumber((r.missing ?? 0) + (r.changed ?? 0) + (r.deleted ?? 0) || undefined)}</td><td class="num">${drifted} of ${count}</td></tr>`);
  return html`<table id="reconciliation-overview" class="data"><thead><tr><th>bronze table</th><th>latest</th><th>at</th><th>source rows</th><th>bronze rows</th><th>drifted keys</th><th>drifted in</th></tr></thead><tbody>${rows}</tbody></table>`;
}
