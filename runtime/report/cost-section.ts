// The cost estimate in the reports: per task of a run (what each used and its price) with the run's total,
// and per day in the overview. Numbers come from the run record (runtime/cost/).

import { addCosts } from "../cost/estimate.ts";
import type { CostEstimate, RunRecord, TaskRecord } from "../state/run-records.ts";
import { barChart } from "./charts.ts";
import { formatBytes, formatNumber } from "./format.ts";
import { html, type Markup } from "./html.ts";

/** `USD 0.000298`, `USD 1.25`: run costs are often fractions of a cent, so small amounts keep three significant digits. */
export function formatMoney(amount: number | undefined, currency: string): string {
  if (amount === undefined) return "";
  if (amount === 0) return `${currency} 0`;
  return `${currency} ${amount < 0.01 ? amount.toPrecision(3) : amount.toFixed(2)}`;
}

function costCells(c: CostEstimate): Markup {
  return html`<td class="num">${formatNumber(Math.round(c.gbSeconds * 10) / 10)}</td><td class="num">${formatNumber(c.executions)}</td>
<td class="num">${formatNumber(c.storageWrites)} / ${formatNumber(c.storageReads)} / ${formatNumber(c.storageLists)}</td><td class="num">${formatBytes(c.bytesWritten)}</td>
<td class="num">${formatNumber(c.queueOperations)}</td><td class="num">${formatNumber(c.keyVaultOperations)}</td><td class="num">${formatMoney(c.amount.total, c.currency)}</td>`;
}

const HEAD = html`<th>GB-s</th><th>executions</th><th>storage ops (write / read / list)</th><th>bytes written</th><th>queue ops</th><th>Key Vault ops</th><th>estimate</th>`;

function pricesNote(c: CostEstimate): Markup {
  return html`<p class="muted">What the run would cost on Azure Flex Consumption at list prices in ${c.currency} taken ${c.pricesAsOf} (a setting: pipeline <code>cost.prices</code>).
GB-seconds are instance memory × duration, one task per instance; capacity is one month of the bytes written. Free grants are not subtracted.</p>`;
}

/** Per task of the run, and the run's total (tasks plus the driver, the run record and Key Vault). */
export function costTable(run: RunRecord, tasks: readonly TaskRecord[]): Markup {
  const costed = tasks.filter((t): t is TaskRecord & { cost: CostEstimate } => t.cost !== undefined);
  if (!costed.length) return html`<p class="empty" id="cost">This run's record has no cost estimate (recorded from this version on).</p>`;
  const rows = costed.map((t) => html`<tr data-task="${t.task}"><td>${t.task}</td>${costCells(t.cost)}</tr>`);
  const total = run.cost ? html`<tr class="total"><th>run total</th>${costCells(run.cost)}</tr>` : "";
  return html`<table id="cost" class="data"><thead><tr><th>task</th>${HEAD}</tr></thead><tbody>${rows}${total}</tbody></table>${pricesNote(run.cost ?? costed[0].cost)}`;
}

/** The runs' estimates added up per day (UTC), oldest first, as a chart and a table. */
export function costPerDay(runs: readonly RunRecord[]): Markup {
  const days = new Map<string, CostEstimate[]>();
  for (const run of runs) {
    if (!run.cost) continue;
    const day = run.startedAt.slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), run.cost]);
  }
  if (!days.size) return html`<p class="empty" id="cost-per-day">No run shown has a cost estimate.</p>`;
  const rows = [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, costs]) => ({ day, runs: costs.length, cost: addCosts(costs)! }));
  const chart = barChart(rows.map((r) => ({ label: r.day.slice(5), value: r.cost.amount.total, title: `${r.day}: ${formatMoney(r.cost.amount.total, r.cost.currency)} over ${r.runs} runs` })),
    { width: Math.min(900, Math.max(240, rows.length * 24)), height: 120, ariaLabel: "estimated cost per day", className: "cost", minScale: 1e-6, labelEvery: Math.max(1, Math.ceil(rows.length / 8)) });
  return html`<figure><figcaption>Estimated cost per day (${rows[0].cost.currency})</figcaption>${chart}</figure>
<table id="cost-per-day" class="data"><thead><tr><th>day (UTC)</th><th>runs</th>${HEAD}</tr></thead><tbody>${rows.map((r) => html`<tr data-day="${r.day}"><td>${r.day}</td><td class="num">${r.runs}</td>${costCells(r.cost)}</tr>`)}</tbody></table>
${pricesNote(rows[0].cost)}`;
}
