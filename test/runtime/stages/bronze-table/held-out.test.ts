// What the held-out PostgreSQL checks found (issue #11 part 8), through a bronze stage: a dropped source
// column is recorded, kept in history and said in the run; a source column named `load_date` survives a
// hive-partitioned read of bronze's files; bronze's own names are refused with one line; `columns: { c:
// "text" }` (TypeScript and YAML) stores a 2-D int[] column as its text; NaN warnings reach the run record.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../../runtime/declare/yaml.ts";
import { queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { bronzeState } from "../../../helpers/bronze-bed.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { bronzeBed, type BronzeBed } from "../../../helpers/bronze-bed.ts";

let bed: BronzeBed;
let q: (name: string) => string;

before(async () => {
  bed = await bronzeBed("heldout");
  q = (name) => `${quoteIdent(bed.schema)}.${quoteIdent(name)}`;
});
after(() => bed.close());

const db = () => source.postgres("src", { connection: bed.server.url, chunkRows: 100 });

async function load(stage: BronzeTable) {
  const record = await runLocal({
    pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }),
    lake: bed.scratch.lake, secrets: new SecretChain([]), projectRoot: process.cwd(),
  });
  return record.tasks[stage.name];
}

async function read<T = Record<string, unknown>>(stage: BronzeTable, sql: string): Promise<T[]> {
  return bed.engine.withConnection(async (con) => {
    await registerInputs(con, bed.scratch.lake, { pipeline: "t", stage: "test" }, { [stage.name]: stage });
    return queryRows<T>(con, sql);
  });
}

describe("bronze.table: held-out PostgreSQL checks", () => {
  it("records a dropped source column, keeps its history, says so in the run, and shows it NULL in the latest rows", async () => {
    await bed.client.query(`CREATE TABLE ${q("people")} (id int PRIMARY KEY, updated_at timestamptz NOT NULL, name text, legacy text)`);
    await bed.client.query(`INSERT INTO ${q("people")} VALUES (1, '2026-01-01', 'a', 'old-1'), (2, '2026-01-01', 'b', 'old-2')`);
    const stage = bronze.table(db(), { table: `${bed.schema}.people`, primaryKey: "id", incremental: { cursor: ["updated_at", "id"] } });
    assert.equal((await load(stage)).status, "succeeded");
    await bed.client.query(`ALTER TABLE ${q("people")} DROP COLUMN legacy`);
    await bed.client.query(`UPDATE ${q("people")} SET name = 'b2', updated_at = '2026-01-02' WHERE id = 2`);
    const second = await load(stage);
    assert.equal(second.status, "succeeded", second.error);
    assert.match(second.note ?? "", /columns dropped in the source: legacy/);
    const state = await bronzeState(bed.engine, bed.scratch.lake, "t", stage);
    assert.deepEqual(state!.dropped, ["legacy"]);
    assert.deepEqual(state!.schemaChanges.at(-1)?.dropped, ["legacy"]);
    assert.ok(state!.columns.some((c) => c.name === "legacy"), "the column stays in bronze's columns");
    assert.deepEqual(await read(stage, `SELECT id, name, legacy FROM people ORDER BY id`), [{ id: 1, name: "a", legacy: null }, { id: 2, name: "b2", legacy: null }]);
    assert.deepEqual(await read(stage, `SELECT id, legacy FROM people__history WHERE legacy IS NOT NULL ORDER BY id`), [{ id: 1, legacy: "old-1" }, { id: 2, legacy: "old-2" }]);
    // Back in the source: added again, no longer dropped.
    await bed.client.query(`ALTER TABLE ${q("people")} ADD COLUMN legacy text`);
    await bed.client.query(`UPDATE ${q("people")} SET legacy = 'new', updated_at = '2026-01-03' WHERE id = 1`);
    const third = await load(stage);
    assert.match(third.note ?? "", /new columns: legacy/);
    assert.equal((await bronzeState(bed.engine, bed.scratch.lake, "t", stage))!.dropped, undefined);
    assert.deepEqual(await read(stage, `SELECT id, legacy FROM people ORDER BY id`), [{ id: 1, legacy: "new" }, { id: 2, legacy: null }]);
  });

  it("keeps a source column named load_date under hive partitioning, and refuses bronze's own names", async () => {
    await bed.client.query(`CREATE TABLE ${q("loads")} (id int PRIMARY KEY, load_date date)`);
    await bed.client.query(`INSERT INTO ${q("loads")} VALUES (1, '1999-12-31'), (2, NULL)`);
    const stage = bronze.table(db(), { table: `${bed.schema}.loads`, primaryKey: "id" });
    assert.equal((await load(stage)).status, "succeeded");
    const files = (await bronzeState(bed.engine, bed.scratch.lake, "t", stage))!.batches.flatMap((b) => b.files);
    assert.ok(files.every((f) => /\/_load_date=\d{4}-\d\d-\d\d\//.test(f)), files.join(", "));
    const local = await bed.scratch.lake.localFiles(files);
    const hive = await bed.engine.withConnection((con) => queryRows(con,
      `SELECT id, load_date::VARCHAR AS load_date FROM read_parquet([${local.map(quoteLiteral).join(", ")}], hive_partitioning = true) ORDER BY id`));
    assert.deepEqual(hive, [{ id: 1, load_date: "1999-12-31" }, { id: 2, load_date: null }]);

    await bed.client.query(`CREATE TABLE ${q("reserved")} (id int PRIMARY KEY, _load_date date, _mallard_deleted boolean)`);
    const refused = await load(bronze.table(db(), { table: `${bed.schema}.reserved`, primaryKey: "id" }));
    assert.equal(refused.status, "failed");
    assert.match(refused.error ?? "", /stage "reserved": .*column "_load_date" has a name bronze reserves/);
    assert.match(refused.error ?? "", /column "_mallard_deleted" has a name bronze reserves/);
    assert.doesNotMatch(refused.error ?? "", /\n\s+at /, "no stack trace");
  });

  it("stores a 2-D int[] column as text by a columns override (TypeScript and YAML), and puts NaN warnings in the run", async () => {
    await bed.client.query(`CREATE TABLE ${q("grid")} (id int PRIMARY KEY, int_matrix int[], amount numeric(10,2))`);
    await bed.client.query(`INSERT INTO ${q("grid")} VALUES (1, '{1,2}', 'NaN'), (2, '{{1,2},{3,4}}', 2)`);
    const plain = bronze.table(db(), { table: `${bed.schema}.grid`, name: "grid_plain", primaryKey: "id" });
    const failed = await load(plain);
    assert.equal(failed.status, "failed");
    assert.match(failed.error ?? "", /column "int_matrix" \(integer\[\]\) holds a multi-dimensional array.*columns: \{ int_matrix: "text" \}/);

    const typed = bronze.table(db(), { table: `${bed.schema}.grid`, primaryKey: "id", columns: { int_matrix: "text" } });
    const yaml = pipelineFromYaml(`name: t
schedule: "0 0 * * * *"
sources:
  src: { kind: postgres, connection: ${JSON.stringify(bed.server.url)}, chunkRows: 100 }
stages:
  - { bronze: grid, source: src, table: ${bed.schema}.grid, primaryKey: id, columns: { int_matrix: text } }
`, "t.yml").stages[0] as BronzeTable;
    assert.deepEqual(yaml.columns, typed.columns);
    const done = await load(yaml);
    assert.equal(done.status, "succeeded", done.error);
    assert.match(done.note ?? "", /column "amount" \(numeric\(10,2\)\): 1 NaN value stored as NULL/);
    assert.deepEqual(await read(yaml, `SELECT id, int_matrix, amount::VARCHAR AS amount FROM grid ORDER BY id`),
      [{ id: 1, int_matrix: "{1,2}", amount: null }, { id: 2, int_matrix: "{{1,2},{3,4}}", amount: "2.00" }]);
  });
});
