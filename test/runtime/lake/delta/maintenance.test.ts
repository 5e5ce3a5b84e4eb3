// Vacuum and compaction of Delta tables: what each deletes or rewrites, that running them twice changes
// nothing more, and that neither loses a file a concurrent writer's version needs.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import { existsSync, readdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { copyToParquet, Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import type { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { commit } from "../../../../runtime/lake/delta/commit.ts";
import { compactTable } from "../../../../runtime/lake/delta/compact.ts";
import { overwriteTable } from "../../../../runtime/lake/delta/overwrite.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import { loadSnapshot } from "../../../../runtime/lake/delta/replay.ts";
import { vacuumTable } from "../../../../runtime/lake/delta/vacuum.ts";
import { definitionActions, projectionOf, uploadDataFile } from "../../../../runtime/lake/delta/write.ts";
import { bronzeCompaction, LOAD_ID_TAG } from "../../../../runtime/stages/bronze-table/log.ts";
import { checkDeltaTable } from "../../../helpers/delta-protocol.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { tmpdir } from "node:os";

const DAY = 86_400_000;

describe("Delta maintenance", () => {
  let engine: Engine;
  let con: DuckDBConnection;
  let lake: LocalLake;
  let dir: string;
  let dispose: () => Promise<void>;
  before(async () => {
    engine = await Engine.create({ threads: 1, memoryLimit: "512MB" }, { directories: [tmpdir()] });
    con = await engine.connect();
    ({ lake, dir, dispose } = await scratchLake());
  });
  after(async () => {
    con.closeSync();
    await engine.close();
    await dispose();
  });

  const publish = (root: string, query: string) => overwriteTable(lake, con, { root, query, workDir: engine.workDir });
  const rows = async (root: string, version?: number) => {
    const snapshot = (await loadSnapshot(lake, con, root, version === undefined ? undefined : { version }))!;
    await createSnapshotView(con, lake, snapshot, "m");
    return queryRows<Record<string, unknown>>(con, "SELECT * FROM m ORDER BY ALL");
  };
  const parquetFiles = (root: string) => readdirSync(join(dir, root), { recursive: true }).map(String).filter((n) => n.endsWith(".parquet") && !n.startsWith("_delta_log")).sort();

  /** An append-only table partitioned by `_load_date`, one small file per load, tagged with its load id. */
  async function appendLoads(root: string, loads: { date: string; loadId: string; ids: number[] }[]) {
    const schemaQuery = "SELECT 1::BIGINT AS id, 'x' AS v, DATE '2026-01-01' AS _load_date";
    const { schema } = await projectionOf(con, schemaQuery);
    for (const load of loads) {
      const local = join(engine.workDir, `${load.loadId}.parquet`);
      await copyToParquet(con, `SELECT i::BIGINT AS id, 'load ${load.loadId}' AS v FROM unnest([${load.ids.join(", ")}]) t(i)`, local);
      const add = await uploadDataFile(lake, con, root, schema, { localFile: local, partitionValues: { _load_date: load.date }, tags: { [LOAD_ID_TAG]: load.loadId }, name: `${load.loadId}.parquet` });
      await commit(lake, con, root, (snapshot) => ({
        actions: [...definitionActions(snapshot, { schema, partitionColumns: ["_load_date"] }), { add }],
        operation: "WRITE",
        operationParameters: { mode: "Append" },
      }));
    }
  }

  it("vacuum deletes removed files past the retention and untracked files past it, keeps everything else; twice deletes nothing more", async () => {
    const root = "gold/vac";
    for (let i = 0; i < 4; i++) await publish(root, `SELECT ${i} AS n`);
    const untrackedOld = join(dir, root, "part-crashed-long-ago.parquet");
    const untrackedNew = join(dir, root, "part-uploading-now.parquet");
    for (const file of [untrackedOld, untrackedNew]) await copyToParquet(con, "SELECT 1 AS n", file);
    utimesSync(untrackedOld, new Date(Date.now() - 8 * DAY), new Date(Date.now() - 8 * DAY));

    // Default retention: the three replaced files were removed just now, so they stay (time travel works).
    const first = (await vacuumTable(lake, con, root))!;
    assert.deepEqual(first.deleted, [`${root}/part-crashed-long-ago.parquet`]);
    assert.equal(first.retentionMs, 7 * DAY);
    assert.deepEqual(await rows(root, 0), [{ n: 0 }]);
    assert.deepEqual((await vacuumTable(lake, con, root))!.deleted, [], "a second run deletes nothing");

    // Eight days later the removed files are past the retention; the live one and the upload in flight stay.
    const later = (await vacuumTable(lake, con, root, { now: Date.now() + 8 * DAY }))!;
    assert.equal(later.deleted.length, 3 + 1, later.deleted.join(", "));
    assert.ok(existsSync(untrackedNew) === false, "eight days on, an untracked file is old enough to go");
    assert.deepEqual(await rows(root), [{ n: 3 }]);
    await assert.rejects(rows(root, 0), /does not exist|No files found|IO Error/, "a version older than the retention is gone, as in Delta");
    await checkDeltaTable(con, join(dir, root));
  });

  it("vacuum beside a publishing writer never deletes a file of the current version or of an upload in flight", async () => {
    const root = "gold/busy";
    await publish(root, "SELECT 0 AS n");
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++) await publish(root, `SELECT ${i} AS n`);
    })();
    for (let round = 0; round < 5; round++) {
      await vacuumTable(lake, con, root, { retentionMs: 0 });
      assert.equal((await rows(root)).length, 1, "the current version always reads");
    }
    stop = true;
    await writer;
    const checked = await checkDeltaTable(con, join(dir, root));
    assert.equal(checked.liveFiles, 1);
  });

  it("compaction rewrites each partition's small files into one, rows and load order kept, then has nothing to do", async () => {
    const root = "bronze/src/events";
    await appendLoads(root, [
      { date: "2026-01-01", loadId: "20260101T010000000Z-a", ids: [1, 2] },
      { date: "2026-01-01", loadId: "20260101T020000000Z-b", ids: [2, 3] },
      { date: "2026-01-01", loadId: "20260101T030000000Z-c", ids: [4] },
      { date: "2026-01-02", loadId: "20260102T010000000Z-d", ids: [5] },
      { date: "2026-01-02", loadId: "20260102T020000000Z-e", ids: [6, 7] },
      { date: "2026-01-03", loadId: "20260103T010000000Z-f", ids: [8] },
    ]);
    const before = await rows(root);
    const result = (await compactTable(lake, con, root, { workDir: engine.workDir, ...bronzeCompaction }))!;
    assert.deepEqual([result.removed, result.added, result.commits, result.skipped], [5, 2, 2, 0]);
    assert.deepEqual(await rows(root), before, "the same rows");
    const snapshot = (await loadSnapshot(lake, con, root))!;
    const byDate = new Map([...snapshot.files.values()].map((f) => [f.partitionValues._load_date, f]));
    assert.equal(snapshot.files.size, 3);
    assert.equal(byDate.get("2026-01-01")!.tags?.[LOAD_ID_TAG], "20260101T030000000Z-c", "the merged file counts as its newest load");
    // Older loads first inside the merged file.
    await createSnapshotView(con, lake, snapshot, "c");
    const merged = await queryRows<{ v: string }>(con, `SELECT v FROM read_parquet('${join(dir, root, decodeURIComponent(byDate.get("2026-01-01")!.path))}')`);
    assert.deepEqual(merged.map((r) => r.v), ["load 20260101T010000000Z-a", "load 20260101T010000000Z-a", "load 20260101T020000000Z-b", "load 20260101T020000000Z-b", "load 20260101T030000000Z-c"]);
    const commits = readdirSync(join(dir, root, "_delta_log")).filter((n) => n.endsWith(".json")).length;
    assert.deepEqual((await compactTable(lake, con, root, { workDir: engine.workDir, ...bronzeCompaction }))!.commits, 0, "idempotent");
    assert.equal(readdirSync(join(dir, root, "_delta_log")).filter((n) => n.endsWith(".json")).length, commits);
    await checkDeltaTable(con, join(dir, root));
  });

  it("compaction steps aside when a concurrent commit removed the files it rewrote, and leaves no file behind", async () => {
    const root = "bronze/src/raced";
    await appendLoads(root, [
      { date: "2026-01-01", loadId: "20260101T010000000Z-a", ids: [1] },
      { date: "2026-01-01", loadId: "20260101T020000000Z-b", ids: [2] },
    ]);
    const files = parquetFiles(root);
    const snapshot = (await loadSnapshot(lake, con, root))!;
    // A full load that empties the table commits the version the compaction was about to take.
    const fullLoad = [...snapshot.files.values()].map((f) => JSON.stringify({ remove: { path: f.path, deletionTimestamp: Date.now(), dataChange: true } }));
    const racing = Object.create(lake) as LocalLake;
    let raced = false;
    racing.writeText = async (path, text, condition) => {
      if (!raced && path.endsWith(".json") && path.includes("_delta_log")) {
        raced = true;
        await lake.writeText(path, [JSON.stringify({ commitInfo: { operation: "WRITE" } }), ...fullLoad].join("\n"), { ifMatch: null });
      }
      return lake.writeText(path, text, condition);
    };
    const result = (await compactTable(racing, con, root, { workDir: engine.workDir, ...bronzeCompaction }))!;
    assert.deepEqual([result.commits, result.skipped], [0, 1]);
    assert.equal((await loadSnapshot(lake, con, root))!.files.size, 0, "the full load's commit stands");
    assert.deepEqual(parquetFiles(root), files, "the compacted file was deleted");
    await checkDeltaTable(con, join(dir, root));
  });
});
