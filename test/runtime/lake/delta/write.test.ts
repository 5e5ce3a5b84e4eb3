// Mallard's Delta writer: the schemaString and Parquet types of every DuckDB type Mallard writes, stats
// from the footer, a checkpoint every 10 versions equal to the replayed log, time travel, and two writers
// racing for a version. Every table written here passes the independent protocol checker, and Mallard's
// reader agrees with the independent reader.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import type { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { overwriteTable } from "../../../../runtime/lake/delta/overwrite.ts";
import { DeltaError } from "../../../../runtime/lake/delta/protocol.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import { loadSnapshot } from "../../../../runtime/lake/delta/replay.ts";
import { parseSchema } from "../../../../runtime/lake/delta/schema.ts";
import { checkDeltaTable } from "../../../helpers/delta-protocol.ts";
import { independentView } from "../../../helpers/delta-reader.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { tmpdir } from "node:os";

const EVERY_TYPE = `SELECT
  i::TINYINT AS t_byte, i::SMALLINT AS t_short, i::INTEGER AS t_int, (i * 10000000000)::BIGINT AS t_long,
  (i / 7)::DECIMAL(9,4) AS t_dec9, (i * 123456789.123)::DECIMAL(18,3) AS t_dec18, (i * 1.5)::DECIMAL(38,10) AS t_dec38,
  (i / 3)::FLOAT AS t_float, (i / 3)::DOUBLE AS t_double, i % 2 = 0 AS t_bool, 'naïve ✓ ' || i AS t_string, ('\\x0' || i)::BLOB AS t_blob,
  DATE '2026-01-01' + i::INTEGER AS t_date,
  TIMESTAMP '2026-01-01 10:00:00.123456' + to_seconds(i) AS t_ntz,
  TIMESTAMPTZ '2026-01-01 10:00:00.654321+00' + to_seconds(i) AS t_tz,
  TIMESTAMP_NS '2026-01-01 10:00:00.123456789' AS t_ns,
  ('00000000-0000-0000-0000-00000000000' || (i % 10))::UUID AS t_uuid, TIME '12:34:56' AS t_time, INTERVAL (i) DAY AS t_interval,
  (i * 1000000000000000000000)::HUGEINT AS t_huge, i::UBIGINT AS t_ubig, i::UINTEGER AS t_uint, '{"a": 1}'::JSON AS t_json,
  [i, i + 1] AS t_list, {'a': i, 'b': 'x'} AS t_struct, MAP {'k': i} AS t_map, [('00000000-0000-0000-0000-000000000001')::UUID] AS t_uuid_list,
  CASE WHEN i = 3 THEN NULL ELSE i END AS t_nullable
FROM range(1, 6) r(i)`;

describe("Delta writer", () => {
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

  it("records a Spark schemaString for every type Mallard writes, and the Parquet types match it", async () => {
    const outcome = await publish("silver/every_type", EVERY_TYPE);
    assert.ok(outcome.committed);
    const snapshot = (await loadSnapshot(lake, con, "silver/every_type"))!;
    const types = Object.fromEntries(snapshot.schema.fields.map((f) => [f.name, f.type]));
    assert.deepEqual(
      { ...types, t_list: undefined, t_struct: undefined, t_map: undefined, t_uuid_list: undefined },
      {
        t_byte: "byte", t_short: "short", t_int: "integer", t_long: "long",
        t_dec9: "decimal(9,4)", t_dec18: "decimal(18,3)", t_dec38: "decimal(38,10)",
        t_float: "float", t_double: "double", t_bool: "boolean", t_string: "string", t_blob: "binary",
        t_date: "date", t_ntz: "timestamp_ntz", t_tz: "timestamp", t_ns: "timestamp_ntz",
        t_uuid: "string", t_time: "string", t_interval: "string", t_huge: "decimal(38,0)", t_ubig: "decimal(20,0)", t_uint: "long",
        t_json: "string", t_nullable: "long",
        t_list: undefined, t_struct: undefined, t_map: undefined, t_uuid_list: undefined,
      },
    );
    assert.deepEqual(types.t_list, { type: "array", elementType: "long", containsNull: true });
    assert.deepEqual(types.t_struct, { type: "struct", fields: [{ name: "a", type: "long", nullable: true, metadata: {} }, { name: "b", type: "string", nullable: true, metadata: {} }] });
    assert.deepEqual(types.t_map, { type: "map", keyType: "string", valueType: "long", valueContainsNull: true });
    assert.deepEqual(types.t_uuid_list, { type: "array", elementType: "string", containsNull: true });
    // timestamp_ntz is a reader+writer feature; nothing else needs one.
    assert.deepEqual(snapshot.protocol, { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["timestampNtz"], writerFeatures: ["timestampNtz"] });
    const checked = await checkDeltaTable(con, join(dir, "silver/every_type"));
    assert.equal(checked.rows, 5);
  });

  it("reads back exactly what was written, DuckDB types restored, and agrees with the independent reader", async () => {
    const snapshot = (await loadSnapshot(lake, con, "silver/every_type"))!;
    await createSnapshotView(con, lake, snapshot, "mallard_view");
    const original = await queryRows(con, `SELECT * REPLACE (t_ns::TIMESTAMP AS t_ns) FROM (${EVERY_TYPE}) ORDER BY t_int`);
    const read = await queryRows(con, "SELECT * FROM mallard_view ORDER BY t_int");
    assert.deepEqual(read, original);
    const [described] = await queryRows<{ t: string }>(con, "SELECT typeof(t_uuid) || '/' || typeof(t_huge) || '/' || typeof(t_interval) || '/' || typeof(t_json) AS t FROM mallard_view LIMIT 1");
    assert.equal(described.t, "UUID/HUGEINT/INTERVAL/JSON");
    await independentView(con, join(dir, "silver/every_type"), "independent_view");
    const text = (view: string) => queryRows(con, `SELECT COLUMNS(*)::VARCHAR FROM (SELECT * EXCLUDE (t_uuid, t_time, t_interval, t_huge, t_ubig, t_uint, t_json, t_uuid_list) FROM ${view}) ORDER BY t_int`);
    assert.deepEqual(await text("independent_view"), await text("mallard_view"));
  });

  it("writes numRecords, nullCount and exact min/max from the footer (timestamps in ms, long strings bounded)", async () => {
    const snapshot = (await loadSnapshot(lake, con, "silver/every_type"))!;
    const [add] = [...snapshot.files.values()];
    const stats = JSON.parse(add.stats!);
    assert.equal(stats.numRecords, 5);
    assert.equal(stats.nullCount.t_nullable, 1);
    assert.equal(stats.minValues.t_long, 10000000000);
    assert.equal(stats.maxValues.t_dec18, 617283945.615);
    assert.equal(stats.minValues.t_date, "2026-01-02");
    assert.equal(stats.minValues.t_ntz, "2026-01-01T10:00:01.123");
    assert.equal(stats.maxValues.t_tz, "2026-01-01T10:00:05.654Z");
    assert.equal(stats.minValues.t_string, "naïve ✓ 1");
    assert.equal(stats.minValues.t_bool, undefined, "no min/max for booleans, as Spark");
    assert.equal(stats.minValues.t_list, undefined, "no stats inside nested columns");
    await publish("silver/long_strings", "SELECT repeat('x', 40) || i AS s FROM range(3) r(i)");
    const long = JSON.parse([...(await loadSnapshot(lake, con, "silver/long_strings"))!.files.values()][0].stats!);
    assert.equal(long.minValues.s, "x".repeat(32), "a prefix bounds the min");
    assert.equal(long.maxValues.s, undefined, "a cut value is no upper bound");
    await checkDeltaTable(con, join(dir, "silver/long_strings"));
  });

  it("overwrites in one commit (remove + add), keeps older versions readable, and checkpoints every 10 versions", async () => {
    const root = "gold/history";
    for (let v = 0; v < 12; v++) await publish(root, `SELECT ${v} AS version, i FROM range(${v + 1}) r(i)`);
    const latest = (await loadSnapshot(lake, con, root))!;
    assert.equal(latest.version, 11);
    assert.equal(latest.files.size, 1);
    assert.ok(latest.tombstones.size >= 11);
    const log = readdirSync(join(dir, root, "_delta_log"));
    assert.ok(log.includes("00000000000000000010.checkpoint.parquet"), log.join(", "));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, root, "_delta_log/_last_checkpoint"), "utf8")).version, 10);
    const v4 = (await loadSnapshot(lake, con, root, { version: 4 }))!;
    await createSnapshotView(con, lake, v4, "v4");
    assert.deepEqual(await queryRows(con, "SELECT max(version) AS v, count(*)::INTEGER AS n FROM v4"), [{ v: 4, n: 5 }]);
    // By time: the newest version committed at or before a moment.
    const at = latest.timestamp;
    assert.equal((await loadSnapshot(lake, con, root, { timestamp: at }))!.version, 11);
    await assert.rejects(loadSnapshot(lake, con, root, { timestamp: at - 3_600_000 }), /no version was committed at or before/);
    const checked = await checkDeltaTable(con, join(dir, root));
    assert.deepEqual(checked, { versions: 12, liveFiles: 1, rows: 12, checkpoints: 1 });
  });

  it("publishes an empty result as a version without files, schema kept", async () => {
    await publish("silver/empty", "SELECT 1 AS a, 'x' AS b WHERE false");
    const snapshot = (await loadSnapshot(lake, con, "silver/empty"))!;
    assert.equal(snapshot.files.size, 0);
    await createSnapshotView(con, lake, snapshot, "empty_view");
    assert.deepEqual(await queryRows(con, "SELECT count(*)::INTEGER AS n, typeof(any_value(a)) AS t FROM empty_view"), [{ n: 0, t: "INTEGER" }]);
    assert.deepEqual(parseSchema(snapshot.metadata.schemaString).fields.map((f) => f.name), ["a", "b"]);
  });

  it("lets exactly one of two racing writers take each version; the loser retries on top", async () => {
    const root = "silver/race";
    await publish(root, "SELECT 0 AS n");
    const writers = Array.from({ length: 6 }, (_, i) => i + 1);
    const cons = await Promise.all(writers.map(() => engine.connect()));
    try {
      const outcomes = await Promise.all(writers.map((w, i) => overwriteTable(lake, cons[i], { root, query: `SELECT ${w} AS n`, workDir: engine.workDir })));
      const versions = outcomes.map((o) => (o.committed ? o.version : -1)).sort((a, b) => a - b);
      assert.deepEqual(versions, [1, 2, 3, 4, 5, 6], "every writer committed once, each in its own version");
    } finally {
      for (const c of cons) c.closeSync();
    }
    const commits = readdirSync(join(dir, root, "_delta_log")).filter((n) => n.endsWith(".json"));
    assert.equal(commits.length, 7);
    for (const name of commits) {
      const actions = readFileSync(join(dir, root, "_delta_log", name), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(actions.filter((a) => a.add).length, 1, `${name}: one file added`);
      // Each overwrite removed exactly the file live before it: no version ever has two live files.
      if (name !== "00000000000000000000.json") assert.equal(actions.filter((a) => a.remove).length, 1, `${name}: one file removed`);
    }
    const checked = await checkDeltaTable(con, join(dir, root));
    assert.equal(checked.liveFiles, 1);
  });

  it("steps aside when its guard says so, deleting the file it uploaded", async () => {
    const root = "silver/guarded";
    await publish(root, "SELECT 1 AS n");
    const before = readdirSync(join(dir, root)).filter((n) => n.endsWith(".parquet"));
    const outcome = await overwriteTable(lake, con, { root, query: "SELECT 2 AS n", workDir: engine.workDir, guard: (s) => (s ? "a newer publish won" : undefined) });
    assert.equal(outcome.committed, false);
    assert.equal(!outcome.committed && outcome.reason, "a newer publish won");
    assert.deepEqual(readdirSync(join(dir, root)).filter((n) => n.endsWith(".parquet")), before);
    assert.equal((await loadSnapshot(lake, con, root))!.version, 0);
  });

  it("refuses to write a table with a writer feature it does not implement", async () => {
    const root = "silver/foreign";
    // Written as another engine would: Mallard's own commit refuses to create it.
    await lake.writeText(`${root}/_delta_log/00000000000000000000.json`, [
      { protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ["generatedColumns"] } },
      { metaData: { id: "x", format: { provider: "parquet", options: {} }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [], configuration: {} } },
    ].map((a) => JSON.stringify(a)).join("\n"));
    await assert.rejects(publish(root, "SELECT 1 AS n"), (e: unknown) => e instanceof DeltaError && /writer feature "generatedColumns", which Mallard does not support/.test(e.message));
  });
});
