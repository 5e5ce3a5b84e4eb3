// The report of the sample run in headless Chromium (Debian's `chromium`, which .ci/run installs, driven
// by playwright-core): the DAG, timeline, check table and dedup section are there and visible, a gold
// column's lineage opens on a click, nothing
// logs an error, the page makes no request, markup a source sent stays text, and clicking a stage works
// under the page's script policy. Saves a screenshot (.mallard/test-artifacts/report-sample.png; with
// MALLARD_UPDATE_DOCS=1 also docs/report-sample.png, the one the README shows).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { writeRunReport } from "../../../runtime/report/write.ts";
import { HOSTILE } from "./fixtures.ts";
import { REPO, sampleRun, type SampleRun } from "./sample-run.ts";

const CHROMIUM = process.env.MALLARD_CHROMIUM ?? "/usr/bin/chromium";

let run: SampleRun;
let browser: Browser;
let reportFile: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  run = await sampleRun();
  reportFile = (await writeRunReport(run.pipeline, run.lake, run.record)).location;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
after(async () => {
  await browser?.close();
  await run?.dispose();
});

describe("run report in Chromium", () => {
  it("shows the sample run: DAG, timeline, checks and dedup, with no errors and no requests", async () => {
    assert.equal(run.record.status, "succeeded");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    const url = `file://${reportFile}`;
    await page.goto(url, { waitUntil: "load" });

    for (const selector of ["#dag", "#timeline", "#checks", "#tasks", "#dedup-section .dedup-stage", ".probability-histogram", ".cluster-histogram"]) {
      assert.ok(await page.locator(selector).first().isVisible(), `${selector} visible`);
    }
    assert.equal(await page.locator("#dag .node").count(), run.pipeline.stages.length);
    assert.equal(await page.locator('#dag .node[data-status="succeeded"]').count(), run.pipeline.stages.length);
    assert.equal(await page.locator("#timeline .row").count(), Object.keys(run.record.tasks).length);
    assert.ok(await page.locator("#checks tr.check.warned").count() >= 1);
    assert.ok(await page.locator("#checks tr.check.dropped").count() >= 1);
    assert.ok(await page.locator(".entity").count() >= 1, "largest merged entities");

    // The hostile order's status is in the warn check's sample, as text; nothing of it ran.
    await page.locator("#checks details").first().click();
    const sampleText = await page.locator("#checks").innerText();
    assert.ok(sampleText.includes(HOSTILE), "the markup is shown as text");
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator("#checks img, #checks script").count(), 0);

    // The page's own script runs under its policy: a click on a stage highlights its task row.
    await page.locator('#dag .node[data-stage="orders_clean"]').click();
    assert.equal(await page.locator('#tasks tr.highlight[data-task="orders_clean"]').count(), 1);

    // Column lineage: a gold column's sources, followed through silver down to bronze, and its stages marked.
    const column = page.locator('#lineage-section .lineage-stage[data-stage="daily_revenue"] button.column', { hasText: "revenue" });
    await column.click();
    const tree = page.locator("#lineage-section .lineage-tree:not([hidden])");
    assert.equal(await tree.count(), 1);
    assert.ok(await tree.isVisible());
    assert.match(await tree.innerText(), /orders_clean\.total[\s\S]*orders\.total/);
    assert.deepEqual((await page.locator("#dag .node.lineage").evaluateAll((ns) => ns.map((n) => n.getAttribute("data-stage")))).sort(), ["daily_revenue", "orders", "orders_clean"]);
    await column.click();

    await mkdir(join(REPO, ".mallard/test-artifacts"), { recursive: true });
    const shot = join(REPO, ".mallard/test-artifacts/report-sample.png");
    await page.locator('#dag .node[data-stage="orders_clean"]').click(); // deselect for the picture
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.MALLARD_UPDATE_DOCS === "1") await copyFile(shot, join(REPO, "docs/report-sample.png"));

    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [url], "the page loads nothing but itself");
    await page.close();
  });
});
