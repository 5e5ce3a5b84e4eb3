// Progress: the meter's rate and ETA on a simulated clock, the throttle that bounds telemetry to one event
// per interval per task, the text a terminal shows, the terminal display (live lines on a TTY, nothing at
// all in a log), the Functions monitor's event, and a real PostgreSQL extraction reporting rows as they
// arrive with pg_class's estimate of the total.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RunDisplay } from "../../../runtime/cli/display.ts";
import { bronze, pipeline, source } from "../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../runtime/engine/sql.ts";
import type { Task } from "../../../runtime/orchestration/plan.ts";
import { runBronzePartition } from "../../../runtime/stages/bronze-table/partitions.ts";
import { runBronzeTable } from "../../../runtime/stages/bronze-table/run.ts";
import { Monitor, TELEMETRY, type TelemetrySink } from "../../../runtime/telemetry/monitor.ts";
import { formatEta, formatProgress, ProgressMeter, type ProgressUpdate, Throttle, throttledProgress } from "../../../runtime/telemetry/progress.ts";
import { bronzeBed, type BronzeBed } from "../../helpers/bronze-bed.ts";
import { stageContext } from "../../helpers/stage-context.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("progress meter and throttle", () => {
  it("gives rows per second since the start and an ETA from the estimate", () => {
    const c = clock();
    const meter = new ProgressMeter(c.now);
    c.advance(4000);
    meter.observe({ rows: 200_000, total: 1_000_000 });
    assert.deepEqual(meter.snapshot(), { rows: 200_000, total: 1_000_000, elapsedMs: 4000, rowsPerSecond: 50_000, etaSeconds: 16 });
    // Past the estimate (reltuples is stale): no ETA rather than a negative one.
    meter.observe({ rows: 1_200_000, total: 1_000_000 });
    assert.equal(meter.snapshot().etaSeconds, undefined);
    meter.observe({ rows: 10 });
    assert.deepEqual(meter.snapshot(), { rows: 10, elapsedMs: 4000, rowsPerSecond: 2.5 });
  });

  it("lets one event through per interval, the first only after one interval", () => {
    const c = clock();
    const throttle = new Throttle(10_000, c.now);
    const fired: number[] = [];
    for (let t = 0; t <= 35_000; t += 500) {
      if (throttle.ready()) fired.push(t);
      c.advance(500);
    }
    assert.deepEqual(fired, [10_000, 20_000, 30_000]);
  });

  it("sends a metered snapshot at most once per interval however often the stage reports", () => {
    const c = clock();
    const sent: number[] = [];
    const report = throttledProgress(10_000, (s) => sent.push(s.rows), c.now);
    // A block every 5 ms for 25 s: 5,000 reports, two sends.
    for (let i = 1; i <= 5000; i++) {
      c.advance(5);
      report({ rows: i * 100 });
    }
    assert.deepEqual(sent, [200_000, 400_000]);
    // A task shorter than the interval sends nothing.
    const none: number[] = [];
    const short = throttledProgress(10_000, (s) => none.push(s.rows), c.now);
    short({ rows: 5 });
    assert.deepEqual(none, []);
  });

  it("formats the count, share, rate and ETA for a terminal", () => {
    assert.equal(formatProgress({ rows: 1_234_567, total: 5_000_000, elapsedMs: 3000, rowsPerSecond: 411_522.3, etaSeconds: 9.15 }),
      "1,234,567 of ~5,000,000 rows (24%) · 411,522 rows/s · ETA 10 s");
    assert.equal(formatProgress({ rows: 42, elapsedMs: 200, rowsPerSecond: 210 }), "42 rows");
    assert.equal(formatProgress({ rows: 5000, total: 4000, elapsedMs: 2000, rowsPerSecond: 2500 }), "5,000 of ~4,000 rows (99%) · 2,500 rows/s");
    assert.deepEqual([0, 59.2, 192, 3900].map(formatEta), ["0 s", "1 min 00 s", "3 min 12 s", "1 h 05 min"]);
  });
});

describe("progress in the terminal and in Functions", () => {
  const task: Task = { id: "orders", stage: "orders", dependsOn: [] };
  const progress = { rows: 500, total: 1000, elapsedMs: 2000, rowsPerSecond: 250, etaSeconds: 2 };

  it("shows progress on a TTY's live line and writes nothing for it when output is not a terminal", () => {
    for (const live of [false, true]) {
      let text = "";
      const display = new RunDisplay({ write: (t: string) => (text += t), isTTY: live }, live);
      display.handle({ type: "run-start", runId: "r1", tasks: [task] });
      display.handle({ type: "task-start", task });
      const before = text;
      for (let i = 0; i < 50; i++) display.handle({ type: "task-progress", task, progress: { ...progress, rows: 500 + i } });
      if (!live) assert.equal(text, before, "a log gets no progress lines");
      display.handle({ type: "run-end", record: { runId: "r1", pipeline: "p", status: "running", trigger: "cli", startedAt: "2026-12-02T00:00:00Z", tasks: {} } });
      if (live) assert.match(text, /orders: 549 of ~1,000 rows \(54%\) · 250 rows\/s · ETA 2 s/);
      else assert.doesNotMatch(text, /rows\/s|ETA/);
    }
  });

  it("sends a progress event with the numbers and logs one line", () => {
    const events: { name: string; properties: Record<string, string>; measurements?: Record<string, number> }[] = [];
    const sink: TelemetrySink = { event: (name, properties, measurements) => events.push({ name, properties, measurements }), metric: () => {}, exception: () => {}, flush: async () => {} };
    const lines: string[] = [];
    new Monitor({ sink: (l) => lines.push(l.msg), telemetry: sink }).with({ runId: "r1" }).taskProgress("orders", "orders", progress);
    assert.deepEqual(events, [{ name: TELEMETRY.progress, properties: { runId: "r1", task: "orders", stage: "orders" }, measurements: { rows: 500, rowsPerSecond: 250, elapsedMs: 2000, total: 1000, etaSeconds: 2 } }]);
    assert.deepEqual(lines, ["task orders: 500 of ~1,000 rows (50%) · 250 rows/s · ETA 2 s"]);
  });
});

describe("progress of a real extraction", () => {
  let bed: BronzeBed;
  before(async () => {
    bed = await bronzeBed("progress");
  });
  after(() => bed.close());

  it("reports rows as PostgreSQL delivers them, with pg_class's estimate as the total", async () => {
    const table = `${quoteIdent(bed.schema)}.events`;
    await bed.client.query(`CREATE TABLE ${table} AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 30000) g`);
    await bed.client.query(`ANALYZE ${table}`);
    const stage = bronze.table(source.postgres("src", { connection: bed.server.url, chunkRows: 10_000 }), { table: `${bed.schema}.events`, name: "events", primaryKey: "id" });
    const updates: ProgressUpdate[] = [];
    const base = stageContext({ pipeline: pipeline("p", { schedule: "0 0 * * * *", stages: [stage] }), stage, lake: bed.scratch.lake, engine: bed.engine });
    const ctx = { ...base, progress: (u: ProgressUpdate) => updates.push(u) };
    const outcome = await runBronzeTable(ctx).finally(() => base.closeConnectors());
    assert.equal(outcome.rowsOut, 30_000);
    assert.ok(updates.length >= 3, `${updates.length} updates`);
    assert.ok(updates.every((u, i) => i === 0 || u.rows >= updates[i - 1].rows), "rows only grow");
    assert.equal(updates.at(-1)?.rows, 30_000);
    assert.ok(updates.every((u) => u.total === 30_000), "ANALYZE's reltuples");
  });

  it("a partition task reports its own rows as they arrive, without a total", async () => {
    const table = `${quoteIdent(bed.schema)}.parted`;
    await bed.client.query(`CREATE TABLE ${table} AS SELECT g AS id, g % 97 AS k, md5(g::text) AS label FROM generate_series(1, 24000) g`);
    const db = source.postgres("src", { connection: bed.server.url, chunkRows: 5_000 });
    const stage = bronze.table(db, { table: `${bed.schema}.parted`, name: "parted", primaryKey: "id", partitions: { kind: "chunks", column: "id", count: 2 } });
    const base = stageContext({ pipeline: pipeline("p", { schedule: "0 0 * * * *", stages: [stage] }), stage, lake: bed.scratch.lake, engine: bed.engine, runId: "20260101T000000Z-progress" });
    try {
      for (const index of [0, 1]) {
        const updates: ProgressUpdate[] = [];
        const outcome = await runBronzePartition({ ...base, progress: (u: ProgressUpdate) => updates.push(u) }, { index, count: 2 });
        assert.ok(updates.length >= 2, `partition ${index}: ${updates.length} updates`);
        assert.ok(updates.every((u, i) => i === 0 || u.rows >= updates[i - 1].rows), "rows only grow");
        assert.equal(updates.at(-1)?.rows, outcome.rowsOut);
        assert.ok(updates.every((u) => u.total === undefined), "a partition has no estimate of its own");
      }
    } finally {
      await base.closeConnectors();
    }
  });
});
