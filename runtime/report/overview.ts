// The pipeline overview: one page over the last runs — duration and rows per run as small charts, each
// gold table's freshness against its declared expectation (a freshness check's max age), and failing
// checks over time. Pure, like the run report; links go to the run reports beside it in the lake.

import type { Pipeline } from "../declare/pipeline.ts";
import { durationSeconds } from "../declare/duration.ts";
import type { Lake } from "../lake/lake.ts";
import { RunRecords, type RunRecord } from "../state/run-records.ts";
import { barChart } from "./charts.ts";
import { pipelineGraph, type PipelineGraph } from "./data.ts";
import { formatDuration, formatNumber, formatTime } from "./format.ts";
import { html, type Markup } from "./html.ts";
import { page } from "./page.ts";
import { reconciliationOverview } from "./reconcile-section.ts";
import { costPerDay } from "./cost-section.ts";
import { outcome } from "./sections.ts";
import { STATUS_COLOURS } from "./status.ts";

export interface OverviewData {
  readonly graph: PipelineGraph;
  /** Newest first. */
  readonly runs: readonly RunRecord[];
  /** Gold stage → the max age its freshness expectation allows, in seconds (absent: none declared). */
  readonly expectations: Readonly<Record<string, number>>;
  readonly generatedAt: string;
}

export async function collectOverview(pipeline: Pipeline, lake: Lake, limit: number, now = new Date()): Promise<OverviewData> {
  const expectations: Record<string, number> = {};
  for (const stage of pipeline.stages) {
    if (stage.kind !== "gold.model") continue;
    const ages = stage.checks.flatMap((c) => (c.kind === "freshness" ? [durationSeconds(c.maxAge)] : []));
    if (ages.length) expectations[stage.name] = Math.min(...ages);
  }
  return { graph: pipelineGraph(pipeline), runs: await new RunRecords(lake).latest(pipeline.name, limit), expectations, generatedAt: now.toISOString() };
}

export interface GoldFreshness {
  readonly stage: string;
  readonly lastPublished?: string;
  readonly ageSeconds?: number;
  readonly maxAgeSeconds?: number;
  readonly state: "fresh" | "stale" | "never published" | "no expectation";
}

/** When each gold table was last published (its newest succeeded task) and whether that is too long ago. */
export function goldFreshness(data: OverviewData): GoldFreshness[] {
  const now = Date.parse(data.generatedAt);
  // One pass over every task of every run (20,000 at 200 stages × 100 runs), not one per gold table.
  const lastSuccess = new Map<string, string>();
  for (const r of data.runs) {
    for (const t of Object.values(r.tasks)) {
      if (t.status === "succeeded" && t.endedAt && !(t.endedAt <= (lastSuccess.get(t.stage) ?? ""))) lastSuccess.set(t.stage, t.endedAt);
    }
  }
  return data.graph.stages.filter((s) => s.layer === "gold").map((s) => {
    const last = lastSuccess.get(s.name);
    const maxAgeSeconds = data.expectations[s.name];
    const ageSeconds = last ? (now - Date.parse(last)) / 1000 : undefined;
    const state = ageSeconds === undefined ? "never published" : maxAgeSeconds === undefined ? "no expectation" : ageSeconds > maxAgeSeconds ? "stale" : "fresh";
    return { stage: s.name, lastPublished: last, ageSeconds, maxAgeSeconds, state };
  });
}

export function renderOverview(data: OverviewData): string {
  const runs = [...data.runs].reverse(); // oldest first, left to right
  const took = (r: RunRecord) => (r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : 0);
  const rowsOut = (r: RunRecord) => Object.values(r.tasks).reduce((n, t) => n + (t.rowsOut ?? 0), 0);
  const succeeded = data.runs.filter((r) => r.status === "succeeded").length;
  const header = html`<h1>${data.graph.name} · overview</h1>
<div class="meta"><span>last ${data.runs.length} runs</span><span>${succeeded} succeeded, ${data.runs.length - succeeded} not</span><span>generated ${formatTime(data.generatedAt)}</span></div>`;
  const width = Math.min(900, Math.max(240, runs.length * 14));
  const durations = barChart(runs.map((r) => ({ label: r.startedAt.slice(5, 16).replace("T", " "), value: took(r) / 1000, title: `${r.runId}: ${r.status}, ${formatDuration(took(r))}`, colour: STATUS_COLOURS[r.status === "succeeded" ? "succeeded" : r.status === "running" ? "running" : r.status === "abandoned" ? "abandoned" : "failed"] })),
    { width, height: 150, ariaLabel: "run durations in seconds", className: "durations", labelEvery: Math.max(1, Math.ceil(runs.length / 6)) });
  const rows = barChart(runs.map((r) => ({ label: r.startedAt.slice(5, 16).replace("T", " "), value: rowsOut(r), title: `${r.runId}: ${formatNumber(rowsOut(r))} rows out` })),
    { width, height: 150, ariaLabel: "rows out per run", className: "rows", labelEvery: Math.max(1, Math.ceil(runs.length / 6)) });
  const body = html`
<section id="runs-section"><h2>Runs</h2><div class="charts"><figure><figcaption>Duration (s), oldest left</figcaption>${durations}</figure><figure><figcaption>Rows written</figcaption>${rows}</figure></div>
<div class="scroll">${runsTable(data.runs, took, rowsOut)}</div></section>
<section id="freshness-section"><h2>Gold freshness</h2>${freshnessTable(goldFreshness(data))}</section>
<section id="reconcile-overview-section"><h2>Reconciliation with sources</h2><div class="scroll">${reconciliationOverview(data.runs)}</div></section>
<section id="cost-overview-section"><h2>Cost estimate per day</h2><div class="scroll">${costPerDay(data.runs)}</div></section>
<section id="failing-checks-section"><h2>Failing checks over time</h2>${failingChecks(runs)}</section>`;
  return page({ title: `${data.graph.name} overview`, header, body });
}

function runsTable(runs: readonly RunRecord[], took: (r: RunRecord) => number, rowsOut: (r: RunRecord) => number): Markup {
  return html`<table id="runs" class="data"><thead><tr><th>run</th><th>status</th><th>trigger</th><th>started</th><th>duration</th><th>rows out</th><th>failed checks</th><th>error</th></tr></thead><tbody>${runs.map((r) => {
    const failed = Object.values(r.tasks).flatMap((t) => t.checks ?? []).filter((c) => !c.passed).length;
    return html`<tr><td><a href="${`${r.runId}.html`}">${r.runId}</a></td><td><span class="badge ${r.status}">${r.status}</span></td><td>${r.trigger}</td><td>${formatTime(r.startedAt)}</td>
<td class="num">${formatDuration(took(r))}</td><td class="num">${formatNumber(rowsOut(r))}</td><td class="num">${failed || ""}</td><td class="note">${r.error ? html`<span class="error">${r.error.stage}: ${r.error.message}</span>` : ""}</td></tr>`;
  })}</tbody></table>`;
}

function freshnessTable(rows: readonly GoldFreshness[]): Markup {
  if (!rows.length) return html`<p class="empty">The pipeline has no gold tables.</p>`;
  const badge = { fresh: "succeeded", stale: "failed", "never published": "skipped", "no expectation": "pending" } as const;
  return html`<table id="freshness" class="data"><thead><tr><th>gold table</th><th>state</th><th>last published</th><th>age</th><th>expected within</th></tr></thead><tbody>${rows.map((r) => html`<tr>
<td>${r.stage}</td><td><span class="badge ${badge[r.state]}">${r.state}</span></td><td>${formatTime(r.lastPublished)}</td>
<td class="num">${r.ageSeconds === undefined ? "" : formatDuration(r.ageSeconds * 1000)}</td><td class="num">${r.maxAgeSeconds === undefined ? "—" : formatDuration(r.maxAgeSeconds * 1000)}</td></tr>`)}</tbody></table>
<p class="muted">The expectation is a gold model's freshness check (its max age); a table without one is shown with its age only.</p>`;
}

type Outcome = ReturnType<typeof outcome>;

/** A row per check that did not pass in some run, a cell per run (oldest left) coloured by its outcome. */
function failingChecks(runs: readonly RunRecord[]): Markup {
  // One pass over every check of every run: its outcome per run, by "stage · check".
  const byCheck = new Map<string, (Outcome | undefined)[]>();
  const failing = new Set<string>();
  runs.forEach((r, x) => {
    for (const t of Object.values(r.tasks)) {
      for (const c of t.checks ?? []) {
        const name = `${t.stage} · ${c.name}`;
        let row = byCheck.get(name);
        if (!row) byCheck.set(name, (row = new Array<Outcome | undefined>(runs.length)));
        row[x] = outcome(c);
        if (!c.passed) failing.add(name);
      }
    }
  });
  if (!failing.size) return html`<p class="empty">Every check passed in every run shown.</p>`;
  const names = [...failing].sort();
  const cell = 10;
  const label = 260;
  const width = label + runs.length * cell + 4;
  const height = names.length * (cell + 2) + 4;
  const colours = { passed: "#cbe8d6", warned: "#e08a1e", dropped: "#7b61c9", failed: "#d64545" } as const;
  // Consecutive runs with the same outcome are one rect (its title names the span): a cell per check and
  // run was 14,000 elements at 140 checks × 100 runs, most of them "passed".
  const cells = names.map((name, y) => {
    const spans: Markup[] = [];
    const row = byCheck.get(name)!;
    for (let x = 0; x < runs.length;) {
      const o = row[x];
      let end = x + 1;
      while (end < runs.length && row[end] === o) end++;
      if (o) {
        const title = end - x === 1 ? `${runs[x].runId}: ${o}` : `${runs[x].runId} … ${runs[end - 1].runId} (${end - x} runs): ${o}`;
        spans.push(html`<rect x="${label + x * cell}" y="${y * (cell + 2) + 2}" width="${(end - x) * cell - 1}" height="${cell}" fill="${colours[o]}"><title>${title}</title></rect>`);
      }
      x = end;
    }
    return html`<text class="axis" x="${label - 6}" y="${y * (cell + 2) + cell}" text-anchor="end">${name.length > 44 ? `${name.slice(0, 43)}…` : name}</text>${spans}`;
  });
  return html`<div class="legend">${Object.entries(colours).map(([o, c]) => html`<span><i style="background:${c}"></i>${o}</span>`)}<span>blank: not run</span></div>
<div class="scroll"><svg id="failing-checks" class="chart" role="img" aria-label="failing checks per run" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${cells}</svg></div>`;
}
