// Published tables are Delta tables: a publish is one commit (remove the old files, add the new), readers
// see whole versions only and older versions stay readable; a process killed at any step of a publish
// leaves a readable table at a consistent version; versions are ordered by their inputs; tables of the
// earlier `_current.json` layout are converted in place.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyToParquet, Engine } from "../../../runtime/engine/engine.ts";
import { publishTable } from "../../../runtime/lake/tables.ts";
import { TaskAbandoned } from "../../../runtime/lake/publish-guard.ts";
import { ConfigError } from "../../../runtime/errors.ts";
import { checkDeltaTable } from "../../helpers/delta-protocol.ts";
import { currentVersion, publishQuery, readTable, scratchLake } from "../../helpers/lake.ts";
import { tmpdir } from "node:os";

let engine: Engine;
let scratch: Awaited<ReturnType<typeof scratchLake>>;

before(async () => {
  engine = await Engine.create({ memoryLimit: "512MB", threads: 1 }, { directories: [tmpdir()] });
  scratch = await scratchLake();
});
after(async () => {
  await engine.close();
  await scratch.dispose();
});

const publish = (root: string, query: string, runId: string, extra: Partial<Parameters<typeof publishTable>[2]> = {}) =>
  engine.withConnection((con) => publishTable(scratch.lake, con, { root, runId, query, workDir: engine.workDir, ...extra }));

const dataFiles = (root: string) => readdirSync(join(scratch.dir, root)).filter((n) => n.endsWith(".parquet")).sort();
const commits = (root: string) => readdirSync(join(scratch.dir, root, "_delta_log")).filter((n) => n.endsWith(".json")).sort();

function publishInChild(rows: number, crashAt?: string) {
  return spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/publish-child.ts", scratch.dir, String(rows)], {
    env: { ...process.env, MALLARD_CRASH_AT: crashAt ?? "" },
    encoding: "utf8",
  });
}

describe("publishTable", () => {
  it("commits each version as remove + add, and keeps older versions readable", async () => {
    const v0 = await publishQuery(engine, scratch.lake, "silver/keep", "SELECT 1 AS x");
    const v1 = await publishQuery(engine, scratch.lake, "silver/keep", "SELECT 2 AS x");
    assert.deepEqual([v0.version, v1.version], [0, 1]);
    assert.deepEqual(await readTable(engine, scratch.lake, "silver/keep"), [{ x: 2 }]);
    assert.deepEqual(await readTable(engine, scratch.lake, "silver/keep", "1", { version: 0 }), [{ x: 1 }]);
    const second = readFileSync(join(scratch.dir, "silver/keep/_delta_log/00000000000000000001.json"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(second.map((a) => Object.keys(a)[0]), ["commitInfo", "remove", "add"]);
    assert.deepEqual(JSON.parse(second[0].commitInfo.userMetadata), { runId: "test", inputs: {} });
    await engine.withConnection((con) => checkDeltaTable(con, join(scratch.dir, "silver/keep")));
  });

  for (const point of ["delta:{table}:before-commit", "delta:{table}:after-commit"]) {
    it(`leaves the table readable at a consistent version when the publisher is killed (${point})`, async () => {
      const first = publishInChild(1000);
      assert.equal(first.status, 0, first.stderr);
      const before = await currentVersion(engine, scratch.lake, "silver/t");
      const crashed = publishInChild(2000, point);
      assert.equal(crashed.signal, "SIGKILL", "the child must die at the crash point");
      const after = await currentVersion(engine, scratch.lake, "silver/t");
      const rows = await readTable(engine, scratch.lake, "silver/t", "id");
      const expected = point.endsWith("before-commit") ? { version: before!.version, rows: 1000, tag: "v1000" } : { version: before!.version + 1, rows: 2000, tag: "v2000" };
      assert.equal(after!.version, expected.version);
      assert.equal(rows.length, expected.rows);
      assert.ok(rows.every((r) => r.version === expected.tag), "one whole version is visible");
      assert.ok(!commits("silver/t").some((n) => !/^\d{20}\.json$/.test(n)), "no partial commit file");
      await engine.withConnection((con) => checkDeltaTable(con, join(scratch.dir, "silver/t")));

      const again = publishInChild(3000);
      assert.equal(again.status, 0, again.stderr);
      const latest = await readTable(engine, scratch.lake, "silver/t", "id");
      assert.equal(latest.length, 3000);
      assert.ok(latest.every((r) => r.version === "v3000"));
    });
  }

  it("orders versions by the inputs they were computed from, not by when their publish finished", async () => {
    const newer = await publishQuery(engine, scratch.lake, "gold/order", "SELECT 'new' AS w", "20260102T000000Z-run2", { "bronze/s/a": 2 });
    const filesBefore = dataFiles("gold/order");
    const older = await publish("gold/order", "SELECT 'old' AS w", "20260101T000000Z-run1", { inputs: { "bronze/s/a": 1 } });
    assert.equal(older.published, false, "the publish from older inputs stepped aside");
    assert.match(older.published ? "" : older.reason, /read bronze\/s\/a at version 1; the current version \(run 20260102T000000Z-run2\) was computed from version 2/);
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/order"), [{ w: "new" }]);
    const current = await currentVersion(engine, scratch.lake, "gold/order");
    assert.deepEqual([current?.version, current?.runId, current?.inputs], [newer.version, "20260102T000000Z-run2", { "bronze/s/a": 2 }]);
    assert.deepEqual(dataFiles("gold/order"), filesBefore, "its file was removed");
    assert.equal(commits("gold/order").length, 1, "nothing was committed");
  });

  it("lets a publish from newer inputs replace the current version", async () => {
    await publishQuery(engine, scratch.lake, "gold/later", "SELECT 'old data' AS w", "20260101T000000Z-run1", { "bronze/s/a": 1 });
    const fresher = await publish("gold/later", "SELECT 'new data' AS w", "20260101T000000Z-run0", { inputs: { "bronze/s/a": 2 } });
    assert.equal(fresher.published, true);
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/later"), [{ w: "new data" }]);
    assert.equal((await currentVersion(engine, scratch.lake, "gold/later"))?.version, 1);
  });

  it("publishes nothing when the task no longer holds its run, and removes its file", async () => {
    await publishQuery(engine, scratch.lake, "gold/fenced", "SELECT 'kept' AS w");
    const filesBefore = dataFiles("gold/fenced");
    await assert.rejects(
      publish("gold/fenced", "SELECT 'late' AS w", "test", { holdsTask: async () => false }),
      (e: unknown) => e instanceof TaskAbandoned && /gold\/fenced: run test is no longer active/.test(e.message),
    );
    assert.deepEqual(await readTable(engine, scratch.lake, "gold/fenced"), [{ w: "kept" }]);
    assert.deepEqual(dataFiles("gold/fenced"), filesBefore);
  });

  it("never shows a mix when two writers publish at once: each commit replaces the whole table", async () => {
    await Promise.all([
      publishQuery(engine, scratch.lake, "gold/race", "SELECT 'a' AS w FROM range(500)", "20260101T000000Z-a"),
      publishQuery(engine, scratch.lake, "gold/race", "SELECT 'b' AS w FROM range(700)", "20260101T000000Z-b"),
    ]);
    const rows = await readTable(engine, scratch.lake, "gold/race");
    const writers = new Set(rows.map((r) => r.w));
    assert.equal(writers.size, 1);
    assert.equal(rows.length, writers.has("a") ? 500 : 700);
    const checked = await engine.withConnection((con) => checkDeltaTable(con, join(scratch.dir, "gold/race")));
    assert.equal(checked.liveFiles, 1);
  });
});

describe("converting the earlier layout", () => {
  it("turns a _current.json table into Delta version 0 in place, keeping every file, and publishes on top", async () => {
    const root = "silver/legacy";
    const local = join(engine.workDir, "legacy.parquet");
    await engine.withConnection((con) => copyToParquet(con, "SELECT i AS id, uuid() AS token FROM range(3) r(i)", local));
    await scratch.lake.putFile(local, `${root}/v20260101T000000000Z-aaaaaaaa/part-00000.parquet`);
    const local2 = join(engine.workDir, "legacy2.parquet");
    await engine.withConnection((con) => copyToParquet(con, "SELECT i AS id FROM range(5) r(i)", local2));
    await scratch.lake.putFile(local2, `silver/plain/v20260101T000000000Z-bbbbbbbb/part-00000.parquet`);
    for (const [table, version] of [[root, "20260101T000000000Z-aaaaaaaa"], ["silver/plain", "20260101T000000000Z-bbbbbbbb"]]) {
      await scratch.lake.writeJson(`${table}/_current.json`, { table, version, files: [`${table}/v${version}/part-00000.parquet`], rows: 3, bytes: 1, columns: [], runId: "old-run", sequence: 7, publishedAt: "" });
    }
    // A file with a type Delta has no name for (UUID) is rewritten beside the old one; a plain one is adopted as it is.
    assert.deepEqual((await readTable(engine, scratch.lake, root, "id")).map((r) => typeof r.token), ["string", "string", "string"]);
    assert.deepEqual((await readTable(engine, scratch.lake, "silver/plain", "id")).map((r) => r.id), [0n, 1n, 2n, 3n, 4n]);
    const plain = await currentVersion(engine, scratch.lake, "silver/plain");
    assert.deepEqual(plain, { version: 0, runId: undefined, inputs: undefined, files: ["silver/plain/v20260101T000000000Z-bbbbbbbb/part-00000.parquet"] });
    assert.ok(readdirSync(join(scratch.dir, root, "v20260101T000000000Z-aaaaaaaa")).includes("part-00000.parquet"), "the old file stays for readers in flight");
    assert.ok(!readdirSync(join(scratch.dir, root)).includes("_current.json"));
    for (const table of [root, "silver/plain"]) await engine.withConnection((con) => checkDeltaTable(con, join(scratch.dir, table)));
    await publishQuery(engine, scratch.lake, "silver/plain", "SELECT 9 AS id", "new-run");
    assert.deepEqual(await readTable(engine, scratch.lake, "silver/plain"), [{ id: 9 }]);
  });
});

describe("a table's owning pipeline", () => {
  it("is recorded by the first publish; another pipeline's publish of the same table is refused, the owner's goes on", async () => {
    const root = "silver/owned";
    const first = await publish(root, "SELECT 1 AS x", "20260101T000000000Z-aaaaaa", { pipeline: "shop" });
    assert.equal(first.published, true);
    await assert.rejects(
      publish(root, "SELECT 2 AS x", "20260101T000001000Z-bbbbbb", { pipeline: "crm" }),
      (e: unknown) => e instanceof ConfigError &&
        e.message === 'silver/owned is published by pipeline "shop": pipeline "crm" cannot publish a table of the same name in the same lake ' +
          "(a table is named by its model alone): rename one of the two models, or give each pipeline its own lake",
    );
    assert.deepEqual(await readTable(engine, scratch.lake, root), [{ x: 1 }], "the refused publish changed nothing");
    assert.deepEqual(dataFiles(root).length, 1, "and left no file behind");
    const again = await publish(root, "SELECT 3 AS x", "20260101T000002000Z-cccccc", { pipeline: "shop" });
    assert.equal(again.published, true);
  });

  it("a table published before owners were recorded is taken by the next pipeline that publishes it", async () => {
    const root = "silver/older";
    await publish(root, "SELECT 1 AS x", "20260101T000000000Z-aaaaaa");
    assert.equal((await publish(root, "SELECT 2 AS x", "20260101T000001000Z-bbbbbb", { pipeline: "crm" })).published, true);
    await assert.rejects(publish(root, "SELECT 3 AS x", "20260101T000002000Z-cccccc", { pipeline: "shop" }), ConfigError);
  });
});
