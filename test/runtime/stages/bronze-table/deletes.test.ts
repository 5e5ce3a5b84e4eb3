// Key-scan deletes on PostgreSQL (the same code serves every source: MariaDB's test is in
// test/runtime/sources/mysql/stage.test.ts): a plain incremental table and a partitioned one; after
// each load bronze-latest equals the source row for row, and tombstones are neither loaded rows nor
// written twice. A stage without `deletes` keeps deleted rows (and no extra column).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { Engine, lakeAccess, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../../runtime/engine/sql.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { bronzeBed, type BronzeBed } from "../../../helpers/bronze-bed.ts";

let bed: BronzeBed;

before(async () => {
  bed = await bronzeBed("deletes");
});
after(() => bed.close());

const table = (name: string) => `${quoteIdent(bed.schema)}.${quoteIdent(name)}`;

function stage(name: string, extra: Partial<Pick<BronzeTable, "partitions" | "deletes">> = {}): BronzeTable {
  const db = source.postgres("src", { connection: bed.server.url, chunkRows: 30 });
  return bronze.table(db, {
    table: `${bed.schema}.${name}`, name, primaryKey: ["k1", "k2"], incremental: { cursor: ["updated_at", "k1", "k2"] },
    deletes: extra.deletes === "keyScan" ? "keyScan" : undefined, partitions: extra.partitions,
  });
}

type Lake = BronzeBed["scratch"];

async function load(s: BronzeTable, lake: Lake) {
  const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [s] }), lake: lake.lake, secrets: new SecretChain([]), projectRoot: process.cwd() });
  assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
  return record.tasks[s.name];
}

async function compare(s: BronzeTable, lake: Lake): Promise<string[]> {
  const expected = (await bed.client.query(`SELECT s.k1::text AS k1, s.k2, s.label FROM ${table(s.name)} s ORDER BY s.k1, s.k2`)).rows;
  // Each test has its own lake; an engine reads only the lake it was given (the bed's is another one).
  const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake.lake));
  const actual = await engine.withConnection(async (con) => {
    await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { t: s });
    const rows = await queryRows(con, `SELECT k1::VARCHAR AS k1, k2, label FROM t ORDER BY t.k1, t.k2`);
    const columns = await queryRows<{ column_name: string }>(con, "DESCRIBE SELECT * FROM t");
    assert.deepEqual(rows, expected);
    return columns.map((c) => c.column_name);
  }).finally(() => engine.close());
  return actual;
}

describe("deletes: keyScan", () => {
  for (const partitioned of [false, true]) {
    it(`${partitioned ? "a partitioned" : "an"} incremental table with a composite key`, async () => {
      const name = partitioned ? "parted" : "plain";
      await bed.client.query(`CREATE TABLE ${table(name)} (k1 bigint, k2 text, updated_at timestamptz NOT NULL, label text, PRIMARY KEY (k1, k2))`);
      await bed.client.query(`INSERT INTO ${table(name)} SELECT g, 'x' || (g % 3), '2026-01-01'::timestamptz + g * interval '1 second', 'r' || g FROM generate_series(1, 200) g`);
      // The bed's lake (its engine may read only that one); each test has its own tables.
      const lake = bed.scratch;
      {
        const s = stage(name, { deletes: "keyScan", partitions: partitioned ? { kind: "chunks", column: "k1", count: 3 } : undefined });
        await load(s, lake);
        await bed.client.query(`DELETE FROM ${table(name)} WHERE k1 % 5 = 0`);
        const second = await load(s, lake);
        assert.equal(second.rowsOut, 0);
        assert.match(String(second.note), /40 keys deleted in the source: tombstones written/);
        assert.ok(!(await compare(s, lake)).includes("_mallard_deleted"), "the latest view has no tombstone column");
        const third = await load(s, lake);
        assert.doesNotMatch(String(third.note), /deleted/);
      }
    });
  }

  it("without deletes, a deleted row stays in bronze-latest", async () => {
    await bed.client.query(`CREATE TABLE ${table("kept")} (k1 bigint, k2 text, updated_at timestamptz NOT NULL, label text, PRIMARY KEY (k1, k2))`);
    await bed.client.query(`INSERT INTO ${table("kept")} VALUES (1, 'a', now(), 'one'), (2, 'b', now(), 'two')`);
    const lake = bed.scratch;
    {
      const s = stage("kept");
      await load(s, lake);
      await bed.client.query(`DELETE FROM ${table("kept")} WHERE k1 = 1`);
      await load(s, lake);
      const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake.lake));
      const rows = await engine.withConnection(async (con) => {
        await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { t: s });
        return queryRows(con, "SELECT k1::VARCHAR AS k1 FROM t ORDER BY t.k1");
      }).finally(() => engine.close());
      assert.deepEqual(rows, [{ k1: "1" }, { k1: "2" }]);
    }
  });
});
