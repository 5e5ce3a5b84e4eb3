// When a reconciliation runs (after every load, or with the first load at or after each scheduled time),
// the one line a run prints about it, and the declaration's checks (YAML form included).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bronze, pipeline, source } from "../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../runtime/declare/yaml.ts";
import { describeReconciliation, reconcileDue } from "../../../runtime/reconcile/due.ts";
import { reconciledColumns } from "../../../runtime/reconcile/reconcile.ts";

describe("reconcileDue", () => {
  it("after every load without a schedule; with one, once per scheduled time since the last", () => {
    assert.equal(reconcileDue(undefined, "2026-12-02T10:00:00Z", new Date("2026-12-02T10:00:01Z")), true);
    assert.equal(reconcileDue("0 0 3 * * *", undefined), true);
    // Daily at 03:00 UTC: the last ran at 03:00:05 on the 2nd; due from 03:00 on the 3rd.
    assert.equal(reconcileDue("0 0 3 * * *", "2026-12-02T03:00:05Z", new Date("2026-12-03T02:59:59Z")), false);
    assert.equal(reconcileDue("0 0 3 * * *", "2026-12-02T03:00:05Z", new Date("2026-12-03T03:00:00Z")), true);
    assert.equal(reconcileDue("0 0 3 * * *", "2026-12-02T03:00:05Z", new Date("2026-12-05T11:00:00Z")), true);
  });
});

describe("describeReconciliation", () => {
  const base = { at: "2026-12-02T10:00:00Z", durationMs: 5, columns: ["id"] };
  it("says in sync, drift with its counts, or why it failed", () => {
    assert.equal(describeReconciliation({ ...base, status: "inSync", source: { rows: 1204, checksum: "1" }, pending: 2 }),
      "in sync with the source (1,204 rows; 2 changed since the checkpoint (next load))");
    assert.equal(describeReconciliation({ ...base, status: "drift", source: { rows: 1200, checksum: "1" }, lake: { rows: 1201, checksum: "2" }, missing: 2, changed: 0, deleted: 3 }),
      "drift from the source: 2 missing, 3 deleted in the source (source 1,200 rows, bronze 1,201)");
    assert.equal(describeReconciliation({ ...base, status: "error", error: 'reconcile: column "f" is real' }), 'reconciliation failed: reconcile: column "f" is real');
  });
});

describe("reconcile declaration", () => {
  const db = source.postgres("shop", { connection: "postgres://x@h/db" });
  it("normalises the forms and covers key, cursor and the declared columns once each", () => {
    const a = bronze.table(db, { table: "public.orders", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] }, reconcile: "afterLoad" });
    assert.deepEqual(a.reconcile, { columns: [] });
    assert.deepEqual(reconciledColumns(a), ["id", "updated_at"]);
    const b = bronze.table(db, { table: "public.orders", primaryKey: "id", reconcile: { schedule: "0 0 3 * * *", columns: "status" } });
    assert.deepEqual(b.reconcile, { schedule: "0 0 3 * * *", columns: ["status"] });
    assert.deepEqual(reconciledColumns(b), ["id", "status"]);
  });

  it("refuses a schedule that is not NCRONTAB and a file drop, naming the stage and field", () => {
    const bad = bronze.table(db, { table: "public.orders", primaryKey: "id", reconcile: { schedule: "daily" } });
    assert.throws(() => pipeline("p", { schedule: "0 0 * * * *", stages: [bad] }), /stage "orders": reconcile\.schedule: "daily" is not an NCRONTAB expression/);
    const drops = source.files("drops", { folder: "drop" });
    const files = bronze.files(drops, { name: "csvs", pattern: "orders/*.csv", primaryKey: "id", reconcile: "afterLoad" });
    assert.throws(() => pipeline("p", { schedule: "0 0 * * * *", stages: [files] }), /stage "csvs": reconcile: not for a file drop/);
  });

  it("reads the YAML form", () => {
    const p = pipelineFromYaml(`
name: shop
schedule: "0 0 * * * *"
sources:
  shop: { kind: postgres, connection: { secret: shop-db-url } }
stages:
  - { bronze: orders, source: shop, table: public.orders, primaryKey: id, reconcile: afterLoad }
  - { bronze: people, source: shop, table: public.people, primaryKey: id, reconcile: { schedule: "0 0 3 * * *", columns: [email] } }
`, "p.yaml");
    const [orders, people] = p.stages as Extract<(typeof p.stages)[number], { kind: "bronze.table" }>[];
    assert.deepEqual(orders.reconcile, { columns: [] });
    assert.deepEqual(people.reconcile, { schedule: "0 0 3 * * *", columns: ["email"] });
  });
});
