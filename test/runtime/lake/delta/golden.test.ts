// Mallard's Delta log reader against real Spark-written tables (/work/shared/data/delta-golden, see its
// README): JSON commits, classic, multi-part and V2 checkpoints (JSON and Parquet, with sidecars), time
// travel, partition values of many types, and the features and broken logs it must refuse.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DuckDBConnection } from "@duckdb/node-api";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { DeltaError } from "../../../../runtime/lake/delta/protocol.ts";
import { createSnapshotView } from "../../../../runtime/lake/delta/read.ts";
import { type AsOf, loadSnapshot } from "../../../../runtime/lake/delta/replay.ts";
import { independentView } from "../../../helpers/delta-reader.ts";

const GOLDEN = "/work/shared/data/delta-golden";

describe("Delta reader on Spark-written golden tables", { skip: !existsSync(GOLDEN) && "golden tables not present" }, () => {
  let engine: Engine;
  let con: DuckDBConnection;
  const lake = new LocalLake(GOLDEN);
  before(async () => {
    engine = await Engine.create({ threads: 1, memoryLimit: "512MB" }, { directories: [GOLDEN] });
    con = await engine.connect();
  });
  after(async () => {
    con.closeSync();
    await engine.close();
  });

  const read = async (table: string, asOf?: AsOf, sql = "SELECT count(*)::INTEGER AS n FROM t") => {
    const snapshot = await loadSnapshot(lake, con, table, asOf);
    assert.ok(snapshot, `${table} is a Delta table`);
    await createSnapshotView(con, lake, snapshot, "t");
    return { snapshot, rows: await queryRows<Record<string, unknown>>(con, sql) };
  };
  const count = async (table: string, asOf?: AsOf) => (await read(table, asOf)).rows[0].n;

  it("replays JSON commits on top of a classic checkpoint, and travels to older versions", async () => {
    const { snapshot } = await read("basic-with-inserts-deletes-checkpoint");
    assert.equal(snapshot.version, 13);
    assert.equal(await count("basic-with-inserts-deletes-checkpoint"), 41);
    assert.equal(await count("basic-with-inserts-deletes-checkpoint", { version: 5 }), 45);
    assert.equal(await count("basic-with-inserts-deletes-checkpoint", { version: 12 }), 55);
    // The checkpoint is the state at version 10 (the JSON commits before it replay to the same rows).
    assert.equal(await count("basic-with-inserts-deletes-checkpoint", { version: 10 }), (await read("basic-with-inserts-deletes-checkpoint", { version: 10 })).rows[0].n);
  });

  it("reads a multi-part checkpoint, a checkpoint-only log and V2 checkpoints with sidecars (JSON and Parquet)", async () => {
    assert.equal(await count("multi-part-checkpoint"), 31);
    assert.equal(await count("only-checkpoint-files"), 25);
    assert.equal(await count("v2-checkpoint-json"), 10);
    assert.equal(await count("v2-checkpoint-parquet"), 10);
    assert.equal(await count("125-iterator-bug"), 5);
  });

  it("ignores a corrupted _last_checkpoint (it lists the log)", async () => {
    assert.equal((await read("corrupted-last-checkpoint-kernel")).snapshot.version, 11);
  });

  it("follows overwrites, restores, merges and repartitioning", async () => {
    assert.equal(await count("basic-with-inserts-overwrite-restore"), 200);
    assert.equal(await count("basic-with-inserts-merge"), 140);
    assert.equal(await count("snapshot-repartitioned"), 20);
  });

  it("reads every primitive type, and a row of nulls", async () => {
    const { rows } = await read("data-reader-primitives", undefined,
      "SELECT count(*)::INTEGER AS n, count(as_int)::INTEGER AS ints, sum(as_long)::BIGINT AS longs, max(as_string) AS s, typeof(max(as_big_decimal)) AS dec FROM t");
    assert.deepEqual(rows[0], { n: 11, ints: 10, longs: 45n, s: "9", dec: "DECIMAL(1,0)" });
  });

  it("types partition values from the log, including null partitions and escaped paths", async () => {
    const { rows } = await read("data-reader-partition-values", undefined,
      "SELECT as_int, as_date::VARCHAR AS d, typeof(as_timestamp) AS ts, as_boolean, as_string_lit_null FROM t ORDER BY as_int NULLS LAST");
    assert.deepEqual(rows.map((r) => r.as_int), [0, 1, null]);
    assert.equal(rows[0].d, "2021-09-08");
    assert.equal(rows[0].ts, "TIMESTAMP WITH TIME ZONE");
    assert.equal(rows[2].as_boolean, null);
    assert.equal(rows[0].as_string_lit_null, "null");
    const escaped = await read("data-reader-escaped-chars", undefined, "SELECT _2 FROM t ORDER BY _2");
    assert.deepEqual(escaped.rows.map((r) => r._2), ["bar+%21", "bar+%22", "bar+%23"]);
  });

  it("reads decimals, timestamp_ntz (feature) and every Parquet timestamp encoding", async () => {
    const dec = await read("basic-decimal-table", undefined, "SELECT typeof(any_value(col3)) AS t, min(col1)::VARCHAR AS m FROM t");
    assert.deepEqual(dec.rows[0], { t: "DECIMAL(20,10)", m: "-999.99" });
    const ntz = await read("data-reader-timestamp_ntz", undefined, "SELECT typeof(any_value(tsNtz)) AS t, count(*)::INTEGER AS n FROM t");
    assert.deepEqual(ntz.rows[0], { t: "TIMESTAMP", n: 9 });
    for (const encoding of ["INT96", "TIMESTAMP_MICROS", "TIMESTAMP_MILLIS"]) {
      const { rows } = await read(`kernel-timestamp-${encoding}`, undefined, "SELECT time::VARCHAR AS t, part::VARCHAR AS p FROM t WHERE id = 0");
      assert.deepEqual(rows[0], { t: "2020-02-01 08:09:10+00", p: "2020-01-01 08:09:10.001+00" }, encoding);
    }
  });

  it("reads nested structs, arrays and maps", async () => {
    const { rows } = await read("data-reader-nested-struct", undefined, "SELECT a.ac.acb::BIGINT AS x FROM t ORDER BY b LIMIT 1");
    assert.equal(rows[0].x, 0n);
    assert.equal(await count("data-reader-map"), 10);
    assert.equal(await count("data-reader-array-complex-objects"), 10);
  });

  it("reads files written before a type was widened as the wider type (typeWidening)", async () => {
    const { rows } = await read("type-widening", undefined, "SELECT typeof(any_value(byte_long)) AS t, max(byte_long) AS m FROM t");
    assert.deepEqual(rows[0], { t: "BIGINT", m: 9223372036854775807n });
    assert.equal(await count("type-widening"), 2);
  });

  it("acknowledges vacuumProtocolCheck", async () => {
    assert.equal(await count("basic-with-vacuum-protocol-check-feature"), 100);
  });

  for (const [table, message] of [
    ["data-skipping-basic-stats-all-types-columnmapping-name", /reader feature "columnMapping", which Mallard does not support/],
    ["log-replay-dv-key-cases", /reader feature "deletionVectors", which Mallard does not support/],
    ["deltalog-invalid-protocol-version", /reader version 99 is newer than Mallard reads/],
    ["versions-not-contiguous", /missing version 1 \(versions must be contiguous\)/],
  ] as const) {
    it(`refuses ${table} with a clear message`, async () => {
      await assert.rejects(loadSnapshot(lake, con, table), (e: unknown) => e instanceof DeltaError && message.test(e.message) && e.message.startsWith(`${table}: `));
    });
  }

  it("refuses a version the log does not have", async () => {
    await assert.rejects(loadSnapshot(lake, con, "basic-decimal-table", { version: 3 }), /there is no version 3 \(versions 0–0\)/);
  });

  it("agrees with the independent test reader (which the protocol tests rely on) on Spark's tables", async () => {
    for (const [table, version] of [["basic-with-inserts-deletes-checkpoint", 13], ["basic-with-inserts-deletes-checkpoint", 5], ["data-reader-partition-values", 0], ["snapshot-repartitioned", 5]] as const) {
      await independentView(con, join(GOLDEN, table), "independent", version);
      const [{ n }] = await queryRows<{ n: number }>(con, "SELECT count(*)::INTEGER AS n FROM independent");
      assert.equal(n, await count(table, { version }), `${table}@${version}`);
    }
  });

  it("says a folder without a log is no table", async () => {
    assert.equal(await loadSnapshot(lake, con, "no-such-table"), undefined);
  });
});
