// Published tables: readers see whole versions only; a process killed mid-publish leaves the previous
// version readable, and the next publish succeeds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Engine } from "../../../runtime/engine/engine.ts";
import { publishTable, readCurrent } from "../../../runtime/lake/tables.ts";
import { TaskAbandoned } from "../../../runtime/lake/publish-guard.ts";
import { sortableId } from "../../../runtime/lake/lake.ts";
import { copyToParquet } from "../../../runtime/engine/engine.ts";
import { join } from "node:path";
import { publishQuery, readTable, scratchLake } from "../../helpers/lake.ts";

let engine: Engine;
let scratch: Awaited<ReturnType<typeof scratchLake>>;

before(async () => {
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1 });
  scratch = await scratchLake();
});
after(async () => {
  await engine.close();
  await scratch.dispose();
});

async function parquetOf(sql: string): Promise<string> {
  const file = join(engine.workDir, `q-${Math.random().toString(36).slice(2)}.parquet`);
  await engine.withConnection((con) => copyToParquet(con, sql, file));
  return file;
}

async function folders(root: string): Promise<string[]> {
  const names = new Set<string>();
  for await (const o of scratch.lake.list(root)) names.add(o.path.split("/")[2]);
  return [...names].sort();
}

function publishInChild(rows: number, crashAt?: string) {
  return spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/publish-child.ts", scratch.dir, String(rows)], {
    env: { ...process.env, MALLARD_CRASH_AT: crashAt ?? "" },
    encoding: "utf8",
  });
}

describe("publishTable", () => {
  it("swings the pointer to the new version and keeps the old files for in-flight readers", async () => {
    const v1 = await publishQuery(engine, scratch.lake, "silver/keep", "SELECT 1 AS x");
    const v2 = await publishQuery(engine, scratch.lake, "silver/keep", "SELECT 2 AS x");
    assert.equal(v2.previous, v1.version);
    assert.deepEqual(await readTable(engine, scratch.lake, "silver/keep"), [{ x: 2 }]);
    const old = await scratch.lake.localFiles(v1.files);
    assert.deepEqual(await engine.withConnection(async (con) => (await con.runAndReadAll(`SELECT x FROM read_parquet('${old[0]}')`)).getRowObjectsJS()), [{ x: 1 }]);
  });

  it("sweeps versions beyond the two kept", async () => {
    const versions = [];
    for (let i = 0; i < 5; i++) versions.push(await publishQuery(engine, scratch.lake, "silver/sweep", `SELECT ${i} AS x`));
    assert.deepEqual(await folders("silver/sweep"), ["_current.json", ...versions.slice(2).map((v) => `v${v.version}`)].sort());
    assert.deepEqual(versions.map((v) => v.sequence), [1, 2, 3, 4, 5]);
  });

  it("leaves the previous version readable when the publisher is killed before the pointer write", async () => {
    const first = publishInChild(1000);
    assert.equal(first.status, 0, first.stderr);
    const before = await readCurrent(scratch.lake, "silver/t");
    const crashed = publishInChild(2000, "publish:before-pointer");
    assert.equal(crashed.signal, "SIGKILL", "the child must die at the crash point");
    const current = await readCurrent(scratch.lake, "silver/t");
    assert.deepEqual(current, before);
    const rows = await readTable(engine, scratch.lake, "silver/t", "id");
    assert.equal(rows.length, 1000);
    assert.ok(rows.every((r) => r.version === "v1000"), "only the old version is visible");

    const again = publishInChild(3000);
    assert.equal(again.status, 0, again.stderr);
    const latest = await readTable(engine, scratch.lake, "silver/t", "id");
    assert.equal(latest.length, 3000);
    assert.ok(latest.every((r) => r.version === "v3000"));
  });

  it("orders versions by the inputs they were computed from, not by when their publish started", async () => {
    const newer = await publishQuery(engine, scratch.lake, "gold/order", "SELECT 'new' AS w", "20260102T000000Z-run2", { "bronze/s/a": 2 });
    // Computed from an older version of its input, and publishing after `newer` (a newer version id).
    const older = await publishTable(scratch.lake, {
      root: "gold/order", runId: "20260101T000000Z-run1", localFiles: [await parquetOf("SELECT 'old' AS w")], rows: 1, columns: [],
      inputs: { "bronze/s/a": 1 },
    });
    assert.equal(older.published, false, "the publish from older inputs stepped aside");
    assert.match(older.published ? "" : older.reason, /read bronze\/s\/a at version 1; the current version \(run 20260102T000000Z-run2\) was computed from version 2/);
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/order"), [{ w: "new" }]);
    const current = await readCurrent(scratch.lake, "gold/order");
    assert.deepEqual([current?.version, current?.runId, current?.inputs, current?.sequence], [newer.version, "20260102T000000Z-run2", { "bronze/s/a": 2 }, 1]);
    assert.deepEqual(await folders("gold/order"), ["_current.json", `v${newer.version}`], "its folder was removed");
  });

  it("lets a publish from newer inputs replace the current version even when its publish started first", async () => {
    await publishQuery(engine, scratch.lake, "gold/later", "SELECT 'old data' AS w", "20260101T000000Z-run1", { "bronze/s/a": 1 });
    const fresher = await publishTable(scratch.lake, {
      root: "gold/later", runId: "20260102T000000Z-run2", localFiles: [await parquetOf("SELECT 'new data' AS w")], rows: 1, columns: [],
      inputs: { "bronze/s/a": 2 }, version: "20000101T000000000Z-00000000",
    });
    assert.equal(fresher.published, true);
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/later"), [{ w: "new data" }]);
    assert.equal((await readCurrent(scratch.lake, "gold/later"))?.sequence, 2);
  });

  it("publishes nothing when the task no longer holds its run, and removes its files", async () => {
    const kept = await publishQuery(engine, scratch.lake, "gold/fenced", "SELECT 'kept' AS w");
    await assert.rejects(
      publishTable(scratch.lake, {
        root: "gold/fenced", runId: "test", localFiles: [await parquetOf("SELECT 'late' AS w")], rows: 1, columns: [],
        inputs: {}, holdsTask: async () => false,
      }),
      (e: unknown) => e instanceof TaskAbandoned && /gold\/fenced: run test is no longer active/.test(e.message),
    );
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/fenced"), [{ w: "kept" }]);
    assert.deepEqual(await folders("gold/fenced"), ["_current.json", `v${kept.version}`]);
  });

  it("never sweeps the folder of a publish still uploading, even one whose id is older than the current version", async () => {
    await publishQuery(engine, scratch.lake, "gold/inflight", "SELECT 1 AS w");
    // A publish that started a moment ago and is still uploading: its folder has files, the pointer does not name it.
    const inflight = `gold/inflight/v${sortableId(new Date(Date.now() - 60_000))}/part-00000.parquet`;
    await scratch.lake.putFile(await parquetOf("SELECT 2 AS w"), inflight);
    await publishQuery(engine, scratch.lake, "gold/inflight", "SELECT 3 AS w");
    await publishQuery(engine, scratch.lake, "gold/inflight", "SELECT 4 AS w");
    await publishQuery(engine, scratch.lake, "gold/inflight", "SELECT 5 AS w");
    assert.ok((await folders("gold/inflight")).includes(inflight.split("/")[2]), "the in-flight folder is still there");
    // A crashed publish's folder goes once it is older than the grace period.
    const crashed = `gold/inflight/v${sortableId(new Date(Date.now() - 7 * 3_600_000))}/part-00000.parquet`;
    await scratch.lake.putFile(await parquetOf("SELECT 6 AS w"), crashed);
    await publishQuery(engine, scratch.lake, "gold/inflight", "SELECT 7 AS w");
    assert.ok(!(await folders("gold/inflight")).includes(crashed.split("/")[2]), "the crashed publish's folder was swept");
  });

  it("never shows a mix when two writers publish at once", async () => {
    await Promise.all([
      publishQuery(engine, scratch.lake, "gold/race", "SELECT 'a' AS w FROM range(500)"),
      publishQuery(engine, scratch.lake, "gold/race", "SELECT 'b' AS w FROM range(700)"),
    ]);
    const rows = await readTable(engine, scratch.lake, "gold/race");
    const writers = new Set(rows.map((r) => r.w));
    assert.equal(writers.size, 1);
    assert.equal(rows.length, writers.has("a") ? 500 : 700);
  });
});
