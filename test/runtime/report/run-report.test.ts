// The run report rendered from a record in memory: every section is there, stages and tasks are drawn
// as the record says, and markup in any value comes out as text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeHtml, html, jsonForScript } from "../../../runtime/report/html.ts";
import { layoutDag } from "../../../runtime/report/dag.ts";
import { renderRunReport } from "../../../runtime/report/run-report.ts";
import { STATUS_COLOURS } from "../../../runtime/report/status.ts";
import { HOSTILE, smallGraph, smallReport } from "./fixtures.ts";

describe("html", () => {
  it("escapes interpolated values and keeps markup made by html", () => {
    const inner = html`<b>${"<i>"}</b>`;
    assert.equal(html`<p title="${'"x"'}">${inner}${["a&", 1]}${null}${undefined}</p>`.text, '<p title="&quot;x&quot;"><b>&lt;i&gt;</b>a&amp;1</p>');
    assert.equal(escapeHtml(`'`), "&#39;");
  });

  it("writes JSON no value can break out of a script element with", () => {
    const text = jsonForScript({ v: "</script><!--" }).text;
    assert.ok(!text.includes("<"));
    assert.deepEqual(JSON.parse(text), { v: "</script><!--" });
  });
});

describe("DAG layout", () => {
  it("puts each stage right of its inputs, without overlaps", () => {
    const layout = layoutDag(smallGraph());
    for (const node of layout.nodes.values()) {
      for (const input of node.stage.inputs) assert.ok(layout.nodes.get(input)!.x < node.x, `${input} left of ${node.stage.name}`);
    }
    const spots = new Set([...layout.nodes.values()].map((n) => `${n.x},${n.y}`));
    assert.equal(spots.size, layout.nodes.size);
  });
});

describe("run report", () => {
  const page = renderRunReport(smallReport());

  it("is one document with its style and script inline and a policy that allows no requests", () => {
    assert.match(page, /^<!doctype html>/);
    assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;;[^"]*script-src &#39;sha256-/);
    const fetching = /<(link|img|iframe|object|embed)\b|<[a-z]+[^>]*\s(src|href)=/.exec(page);
    assert.equal(fetching, null, `an element that loads something: ${fetching?.[0]}`);
    assert.equal(page.match(/<script>/g)?.length, 1, "only the page's own script");
  });

  it("draws every stage coloured by its status, unselected stages as not run", () => {
    const node = (stage: string) => new RegExp(`data-stage="${stage}" data-status="([a-z ]+)"[^>]*>\\s*<title>[^<]*</title>\\s*<rect [^>]*fill="([^"]+)"`).exec(page);
    assert.deepEqual(node("revenue")?.slice(1), ["failed", STATUS_COLOURS.failed]);
    assert.deepEqual(node("people")?.slice(1), ["succeeded", STATUS_COLOURS.succeeded]);
    assert.deepEqual(node("unselected")?.slice(1), ["not run", STATUS_COLOURS["not run"]]);
    assert.equal(page.match(/class="edge"/g)?.length, 5);
  });

  it("shows each bronze table's reconciliation: counts, the drifted keys as text, in sync or drift", () => {
    const table = page.slice(page.indexOf('id="reconciliation"'), page.indexOf("Source rows and checksums"));
    assert.match(table, /data-stage="orders">\s*<td>orders<\/td><td><span class="badge failed">drift<\/span><\/td><td class="num">98<\/td><td class="num">100<\/td>\s*<td class="num">1<\/td><td class="num">1<\/td><td class="num">3<\/td>/);
    assert.match(table, /data-stage="customers">\s*<td>customers<\/td><td><span class="badge succeeded">in sync<\/span>/);
    assert.match(table, /drifted keys \(sample of 2\)/);
    assert.match(table, /updated_at = 2026-11-24 09:00:00\+00, id = 42/);
    assert.ok(!table.includes(HOSTILE) && table.includes(escapeHtml(HOSTILE)));
  });

  it("shows the cost estimate per task and for the run, with the prices' date", () => {
    const table = page.slice(page.indexOf('id="cost"'), page.indexOf("</table>", page.indexOf('id="cost"')));
    assert.match(table, /<tr data-task="orders"><td>orders<\/td><td class="num">16<\/td><td class="num">1<\/td>\s*<td class="num">12 \/ 20 \/ 2<\/td><td class="num">2\.0 KB<\/td>\s*<td class="num">3<\/td><td class="num">0<\/td><td class="num">USD 0\.000512<\/td><\/tr>/);
    assert.match(table, /<tr class="total"><th>run total<\/th><td class="num">60<\/td>[\s\S]*USD 0\.00125/);
    assert.match(page, /list prices in USD taken 2026-12-02/);
    assert.match(page, /≈ USD 0\.00125 on Azure/);
  });

  it("shows partitions and retries in the timeline, and every task's rows, bytes and checkpoints", () => {
    const timeline = page.slice(page.indexOf('id="timeline"'), page.indexOf("</svg>", page.indexOf('id="timeline"')));
    assert.equal(timeline.match(/class="row"/g)?.length, 7);
    assert.match(timeline, /partition 0/);
    assert.match(timeline, /class="bar retried" data-task="orders#0"/);
    assert.match(timeline, /attempt 2/);
    assert.match(page, /updated_at = 2026-11-24 09:00:00\+00, id = 42/);
    assert.match(page, /<td class="num">2.0 KB<\/td>/);
  });

  it("lists check results with their sample rows, schema changes and the dedup summary", () => {
    assert.match(page, /<span class="badge warned">warned<\/span>/);
    assert.match(page, /<span class="badge dropped">dropped<\/span>/);
    assert.match(page, /quarantined rows \(sample of 1\)/);
    assert.match(page, /DECIMAL\(10,2\) → DECIMAL\(12,2\)/);
    assert.match(page, /<b>20<\/b><span>pairs compared<\/span>/);
    assert.match(page, /class="chart probability-histogram"/);
    assert.match(page, /class="chart cluster-histogram"/);
    assert.match(page, /aria-label="column contributions for entity e1"/);
  });

  it("lists each model's columns with the tree of their sources", () => {
    const section = page.slice(page.indexOf('id="lineage-section"'), page.indexOf('id="dedup-section"'));
    assert.equal(section.match(/<button type="button" class="column"/g)?.length, 4);
    const start = section.indexOf('id="lineage-orders_clean-1"');
    const tree = section.slice(start, section.indexOf("</template>", start));
    assert.match(section, /<template class="lineage-template" id="lineage-orders_clean-1" data-stages="orders_clean orders">/);
    assert.match(tree, /<code>orders\.price, orders\.quantity<\/code>/s);
    assert.match(section, /no input column/);
  });

  it("prints markup in data as text", () => {
    assert.ok(!page.includes(HOSTILE));
    assert.ok(!page.includes("<img"));
    assert.ok(page.includes(escapeHtml(HOSTILE)));
  });
});
