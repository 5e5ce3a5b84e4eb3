// Published tables: readers see whole versions only; a process killed mid-publish leaves the previous
// version readable, and the next publish succeeds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Engine } from "../../../runtime/engine/engine.ts";
import { publishTable, readCurrent } from "../../../runtime/lake/tables.ts";
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
    const kept = new Set<string>();
    for await (const o of scratch.lake.list("silver/sweep")) kept.add(o.path.split("/")[2]);
    assert.deepEqual([...kept].sort(), ["_current.json", ...versions.slice(2).map((v) => `v${v.version}`)].sort());
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

  it("keeps the pointer on the newer version when an older publish finishes last", async () => {
    const newer = await publishQuery(engine, scratch.lake, "gold/order", "SELECT 'new' AS w");
    // A publish that started before `newer` (an older version id) and reaches its pointer write after it.
    const older = await publishTable(scratch.lake, {
      root: "gold/order", runId: "old", localFiles: [await parquetOf("SELECT 'old' AS w")], rows: 1, columns: [],
      version: "20000101T000000000Z-00000000",
    });
    assert.equal(older.version, newer.version, "the older publish stepped aside");
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/order"), [{ w: "new" }]);
    const folders = new Set<string>();
    for await (const o of scratch.lake.list("gold/order")) folders.add(o.path.split("/")[2]);
    assert.ok(!folders.has("v20000101T000000000Z-00000000"), "its folder was removed");
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
