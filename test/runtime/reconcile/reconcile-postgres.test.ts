// Reconciliation against the real PostgreSQL: the checksum PostgreSQL computes equals the one DuckDB
// computes over bronze for every type it covers (NULLs, Unicode, infinities, time zones); a table drifted
// behind the cursor (rows deleted, inserted with old cursors, cursors moved back), which incremental loads
// cannot see, reports drift with counts and the drifted keys; a clean table reports in sync; rows changed
// after the checkpoint are pending, not drift.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../runtime/declare/index.ts";
import { quoteIdent } from "../../../runtime/engine/sql.ts";
import { openConnector } from "../../../runtime/orchestration/connectors.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { lastReconciliation } from "../../../runtime/reconcile/due.ts";
import { reconcile } from "../../../runtime/reconcile/reconcile.ts";
import { SecretChain } from "../../../runtime/secrets/secrets.ts";
import { bronzeBed, bronzeState, type BronzeBed } from "../../helpers/bronze-bed.ts";

let bed: BronzeBed;
before(async () => {
  bed = await bronzeBed("reconcile");
});
after(() => bed.close());

const table = (name: string) => `${quoteIdent(bed.schema)}.${quoteIdent(name)}`;
const db = () => source.postgres("src", { connection: bed.server.url, chunkRows: 50 });

async function load(s: BronzeTable) {
  const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [s] }), lake: bed.scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd() });
  assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
  return record.tasks[s.name];
}

describe("reconcile: PostgreSQL", () => {
  it("PostgreSQL's checksum equals DuckDB's over bronze for every covered type", async () => {
    await bed.client.query(`CREATE TABLE ${table("typed")} (
      id bigint PRIMARY KEY, small smallint, amount numeric(12,2), name text, code varchar(10), at timestamp, zoned timestamptz,
      day date, uid uuid, flag boolean, ratio numeric)`);
    await bed.client.query(`INSERT INTO ${table("typed")} VALUES
      (1, 7, 12.50, 'héllo wörld ✓', 'A|B', '2024-01-01 10:00:00.5', '2024-01-01 10:00:00.123456+02', '2024-02-29', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', true, 1.10),
      (2, NULL, -0.01, '', NULL, 'infinity', '-infinity', 'infinity', NULL, false, NULL),
      (3, -32768, 0, E'tab\\there', 'x', '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00+00', '1969-12-31', '00000000-0000-0000-0000-000000000000', NULL, 'NaN'),
      (-9223372036854775808, 1, 9999999999.99, 'NULL', '\\N', '2000-01-01', '2000-01-01 00:00:00-08', '0044-03-15 BC', NULL, true, 123456789012345678901234567890)`);
    const s = bronze.table(db(), {
      table: `${bed.schema}.typed`, name: "typed", primaryKey: "id",
      reconcile: { columns: ["small", "amount", "name", "code", "at", "zoned", "day", "uid", "flag", "ratio"] },
    });
    const task = await load(s);
    const r = task.reconciliation!;
    assert.equal(r.status, "inSync", JSON.stringify(r));
    assert.equal(r.method, "pushdown");
    assert.deepEqual(r.source, r.lake);
    assert.equal(r.source!.rows, 4);
    assert.match(r.source!.checksum, /^\d{18,}$/);
    assert.deepEqual(r.columns, ["id", "small", "amount", "name", "code", "at", "zoned", "day", "uid", "flag", "ratio"]);
    // A change in any covered column moves the source's checksum.
    await bed.client.query(`UPDATE ${table("typed")} SET zoned = zoned + interval '1 microsecond' WHERE id = 1`);
    const again = await reconcileNow(s);
    assert.equal(again.status, "drift");
    assert.equal(again.changed, 1);
    assert.deepEqual(again.sample, [{ id: "1", problem: "changed zoned: source 2024-01-01 08:00:00.123457+00, bronze 2024-01-01 08:00:00.123456+00" }]);
  });

  it("a table drifted behind the cursor reports drift with counts; a clean one is in sync", async () => {
    for (const name of ["drifted", "clean"]) {
      await bed.client.query(`CREATE TABLE ${table(name)} (id int PRIMARY KEY, updated_at timestamptz NOT NULL, label text)`);
      await bed.client.query(`INSERT INTO ${table(name)} SELECT g, '2026-01-01'::timestamptz + g * interval '1 minute', 'r' || g FROM generate_series(1, 300) g`);
    }
    const stage = (name: string) => bronze.table(db(), {
      table: `${bed.schema}.${name}`, name, primaryKey: "id", incremental: { cursor: ["updated_at", "id"] }, reconcile: "afterLoad",
    });
    const first = await load(stage("drifted"));
    assert.equal(first.reconciliation?.status, "inSync");
    assert.equal(first.reconciliation?.source?.rows, 300);
    // Behind the cursor, where an incremental load does not look: 3 deleted, 2 inserted with old cursors, 1 cursor moved back.
    await bed.client.query(`DELETE FROM ${table("drifted")} WHERE id IN (10, 20, 30)`);
    await bed.client.query(`INSERT INTO ${table("drifted")} VALUES (1001, '2025-06-01', 'late'), (1002, '2026-01-01 00:05:30+00', 'late')`);
    await bed.client.query(`UPDATE ${table("drifted")} SET updated_at = updated_at - interval '1 hour' WHERE id = 200`);
    // In front of it: the next load takes these, they are no drift.
    await bed.client.query(`INSERT INTO ${table("drifted")} VALUES (2000, '2027-01-01', 'new')`);
    const second = await load(stage("drifted"));
    assert.equal(second.rowsOut, 1);
    const r = second.reconciliation!;
    assert.equal(r.status, "drift", JSON.stringify(r));
    assert.equal(r.method, "pushdown");
    assert.deepEqual({ missing: r.missing, changed: r.changed, deleted: r.deleted, pending: r.pending }, { missing: 2, changed: 1, deleted: 3, pending: 0 });
    assert.equal(r.source?.rows, 300 - 3 + 2 + 1);
    assert.equal(r.lake?.rows, 301);
    assert.deepEqual(r.sample?.map((row) => `${row.id} ${row.problem?.split(" ")[0]}`), ["10 deleted", "20 deleted", "30 deleted", "200 changed", "1001 missing", "1002 missing"]);
    assert.match(String(r.sample?.find((row) => row.id === "200")?.problem), /^changed updated_at: source 2026-01-01 02:20:00\+00, bronze 2026-01-01 03:20:00\+00$/);
    assert.deepEqual(r.upTo, { columns: ["updated_at", "id"], values: ["2027-01-01 00:00:00+00", "2000"] });
    // The last result is kept beside the run records (a schedule reads its time).
    assert.equal((await lastReconciliation(bed.scratch.lake, "t", "drifted"))?.status, "drift");

    const clean = await load(stage("clean"));
    assert.equal(clean.reconciliation?.status, "inSync");
    assert.equal(clean.reconciliation?.missing, undefined, "in sync at the checksum: no key-by-key pass");
    // Changed after the checkpoint (normal traffic between loads): pending, not drift.
    await bed.client.query(`UPDATE ${table("clean")} SET updated_at = '2030-01-01', label = 'moved' WHERE id IN (5, 6)`);
    await bed.client.query(`INSERT INTO ${table("clean")} VALUES (999, '2030-01-01', 'new')`);
    const between = await reconcileNow(stage("clean"));
    assert.equal(between.status, "inSync", JSON.stringify(between));
    assert.equal(between.pending, 3);
    assert.deepEqual([between.missing, between.changed, between.deleted], [0, 0, 0]);
  });

  it("a partitioned table reconciles once, in the task that commits its partitions", async () => {
    await bed.client.query(`CREATE TABLE ${table("parted")} (id int PRIMARY KEY, updated_at timestamptz NOT NULL)`);
    await bed.client.query(`INSERT INTO ${table("parted")} SELECT g, '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 500) g`);
    const s = bronze.table(db(), {
      table: `${bed.schema}.parted`, name: "parted", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] },
      partitions: { kind: "chunks", column: "id", count: 3 }, reconcile: "afterLoad",
    });
    const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [s] }), lake: bed.scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd() });
    assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
    assert.deepEqual(Object.values(record.tasks).filter((t) => t.reconciliation).map((t) => [t.task, t.reconciliation!.status, t.reconciliation!.source?.rows]), [["parted", "inSync", 500]]);
  });
});

async function reconcileNow(stage: BronzeTable) {
  const connector = await openConnector(stage.source, new SecretChain([]));
  try {
    const schema = await connector.discover(stage.resource);
    const state = await bronzeState(bed.engine, bed.scratch.lake, "t", stage);
    return await reconcile({ pipeline: "t", stage, lake: bed.scratch.lake, engine: bed.engine, connector, schema, checkpoint: state?.checkpoint });
  } finally {
    await connector.close();
  }
}
