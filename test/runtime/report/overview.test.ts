// The overview over records in memory: a bar per run, gold freshness against a freshness check, failing
// checks per run, and markup in data as text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeHtml } from "../../../runtime/report/html.ts";
import { goldFreshness, renderOverview, type OverviewData } from "../../../runtime/report/overview.ts";
import { cost, HOSTILE, smallGraph, smallRun } from "./fixtures.ts";

function data(): OverviewData {
  const older = { ...smallRun(), runId: "20261124T090000Z-older", status: "succeeded" as const, error: undefined };
  // revenue: failed in the newest run, last published an hour before "now" by the older run.
  const tasks = { ...older.tasks, revenue: { ...older.tasks.revenue, status: "succeeded" as const, error: undefined, endedAt: "2026-11-24T09:00:30Z" } };
  return {
    graph: smallGraph(), runs: [smallRun(), { ...older, tasks }], generatedAt: "2026-11-24T10:00:30Z",
    expectations: { revenue: 1800 },
  };
}

describe("overview", () => {
  it("judges each gold table's last publish against its expectation", () => {
    assert.deepEqual(goldFreshness(data()).map((f) => [f.stage, f.state, f.ageSeconds]), [["revenue", "stale", 3600], ["unselected", "never published", undefined]]);
  });

  it("draws a bar per run, links each run's report, and shows failing checks over time as text-safe markup", () => {
    const page = renderOverview(data());
    assert.equal(page.match(/<svg class="chart durations"[\s\S]*?<\/svg>/)?.[0].match(/<rect /g)?.length, 2);
    assert.match(page, /<a href="20261124T100000Z-abc123\.html">/);
    assert.match(page, /<span class="badge failed">stale<\/span>/);
    assert.match(page, /orders_clean · accepted_values\(status\)/);
    assert.ok(!page.includes(HOSTILE) && page.includes(escapeHtml(HOSTILE)));
  });

  it("adds the runs' cost estimates up per day", () => {
    const base = data();
    const earlier = { ...base.runs[1], runId: "20261123T090000Z-day1", startedAt: "2026-11-23T09:00:00Z", cost: cost(10, 5, 0.0002) };
    const page = renderOverview({ ...base, runs: [...base.runs, earlier] });
    const table = page.slice(page.indexOf('id="cost-per-day"'), page.indexOf("</table>", page.indexOf('id="cost-per-day"')));
    // The 24th: two runs of 60 GB-s and USD 0.00125 each; the 23rd: one.
    assert.match(table, /data-day="2026-11-23"><td>2026-11-23<\/td><td class="num">1<\/td><td class="num">10<\/td>[\s\S]*?USD 0\.000200<\/td>/);
    assert.match(table, /data-day="2026-11-24"><td>2026-11-24<\/td><td class="num">2<\/td><td class="num">120<\/td>[\s\S]*?USD 0\.00250<\/td>/);
    assert.ok(table.indexOf("2026-11-23") < table.indexOf("2026-11-24"), "oldest first");
    assert.equal(page.match(/<svg class="chart cost"[\s\S]*?<\/svg>/)?.[0].match(/<rect /g)?.length, 2);
  });

  it("shows each bronze table's latest reconciliation and in how many runs it drifted", () => {
    const page = renderOverview(data());
    const table = page.slice(page.indexOf('id="reconciliation-overview"'), page.indexOf("</table>", page.indexOf('id="reconciliation-overview"')));
    assert.match(table, /data-stage="customers">\s*<td>customers<\/td><td><span class="badge succeeded">in sync<\/span>[\s\S]*?<td class="num">0 of 2<\/td>/);
    assert.match(table, /data-stage="orders">\s*<td>orders<\/td><td><span class="badge failed">drift<\/span>[\s\S]*?<td class="num">5<\/td><td class="num">2 of 2<\/td>/);
  });
});
