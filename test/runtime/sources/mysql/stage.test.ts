// bronze.table from the real MariaDB through `mallard run`'s code path (runLocal, a local lake): a full
// load, incremental loads with equal cursor values across chunk edges, updates, inserts below loaded
// ids, late rows inside the look-back, a partitioned load of a skewed key, zero-date warnings in the run
// record, the connection from a secret, and the YAML form. After every load, bronze-latest is compared
// with the source table row for row.

import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, secret, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../../runtime/declare/yaml.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../../../runtime/secrets/secrets.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { scratchLake } from "../../../helpers/lake.ts";
import { testMariadb, type TestMariadb } from "../../../helpers/mariadb.ts";

let db: TestMariadb;
let engine: Engine;
let secrets: SecretChain;

before(async () => {
  db = await testMariadb("stage");
  // The tests' own engine reads the scratch lakes (all under the temp folder) to compare them with the source.
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] });
  secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("maria-url")]: db.url })]);
  await db.sql.query(`CREATE TABLE \`Event Log\` (
    id bigint unsigned PRIMARY KEY, updated_at datetime(6) NOT NULL, amount decimal(12,2), label varchar(40) CHARACTER SET utf8mb4,
    KEY by_cursor (updated_at, id))`);
});
after(async () => {
  await db.close();
  await engine.close();
});

const maria = (chunkRows = 50) => source.mariadb("maria", { connection: secret("maria-url"), chunkRows });

function eventsStage(options: { lookBack?: "1 hours"; chunkRows?: number } = {}): BronzeTable {
  return bronze.table(maria(options.chunkRows), {
    table: "`Event Log`", name: "events", primaryKey: "id",
    incremental: { cursor: ["updated_at", "id"], lookBack: options.lookBack },
  });
}

type Lake = Awaited<ReturnType<typeof scratchLake>>;

async function load(stage: BronzeTable, lake: Lake) {
  const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }), lake: lake.lake, secrets, projectRoot: process.cwd() });
  const task = Object.values(record.tasks).at(-1)!;
  assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
  return task;
}

/** Source rows and bronze-latest rows as comparable text, ordered by id. */
async function compare(stage: BronzeTable, lake: Lake, table = "`Event Log`"): Promise<void> {
  const [rows] = await db.sql.query({
    sql: `SELECT CAST(id AS CHAR), DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f'), CAST(amount AS CHAR), label FROM ${table} ORDER BY id`,
    rowsAsArray: true,
  });
  const expected = (rows as (string | null)[][]).map(([id, updatedAt, amount, label]) => ({ id, updated_at: updatedAt, amount, label }));
  const actual = await engine.withConnection(async (con) => {
    await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { events: stage });
    return queryRows(con, `SELECT id::VARCHAR AS id, strftime(updated_at, '%Y-%m-%d %H:%M:%S.%f') AS updated_at, amount::VARCHAR AS amount, label FROM events ORDER BY events.id`);
  });
  assert.equal(actual.length, expected.length, "bronze-latest has as many rows as the source");
  assert.deepEqual(actual, expected);
}

async function historyCount(stage: BronzeTable, lake: Lake): Promise<{ rows: number; distinct: number }> {
  return engine.withConnection(async (con) => {
    await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { events: stage });
    const [r] = await queryRows<{ rows: bigint; distinct: bigint }>(con, `SELECT count(*) AS rows, count(DISTINCT (id, updated_at)) AS distinct FROM events__history`);
    return { rows: Number(r.rows), distinct: Number(r.distinct) };
  });
}

describe("bronze.table from MariaDB", () => {
  it("loads everything, then only what changed, with runs of equal timestamps across every chunk edge", async () => {
    const lake = await scratchLake();
    try {
      // 500 rows over 5 timestamps; ids above 2^63 so the key is beyond BIGINT too.
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT 9223372036854775807 + seq, TIMESTAMP'2026-01-01 00:00:00' + INTERVAL (seq % 5) MINUTE, seq * 1.5, CONCAT('row ', seq, ' 😀') FROM seq_1_to_500`);
      const stage = eventsStage();
      const first = await load(stage, lake);
      assert.equal(first.rowsOut, 500);
      await compare(stage, lake);
      assert.deepEqual(first.checkpointAfter, { columns: ["updated_at", "id"], values: ["2026-01-01 00:04:00.000000", "9223372036854776306"] });

      await db.sql.query(`UPDATE \`Event Log\` SET label = 'updated', amount = amount + 1, updated_at = '2026-01-02 00:00:00' WHERE id % 10 = 0`);
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT seq, '2026-01-02 00:00:00', 0, CONCAT('new ', seq) FROM seq_1_to_60`);
      const second = await load(stage, lake);
      assert.equal(second.rowsOut, 110, "50 updated and 60 new rows, nothing twice");
      await compare(stage, lake);
      assert.equal((await load(stage, lake)).rowsOut, 0, "nothing new, nothing read");
      const history = await historyCount(stage, lake);
      assert.equal(history.rows, history.distinct, "no row version loaded twice");
    } finally {
      await db.sql.query("DELETE FROM `Event Log`");
      await lake.dispose();
    }
  });

  it("a late row inside the look-back is loaded; rows re-read by the look-back are kept once in the latest view", async () => {
    const lake = await scratchLake();
    try {
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT seq, TIMESTAMP'2026-02-01 10:00:00' + INTERVAL seq SECOND, seq, 'x' FROM seq_1_to_20`);
      const stage = eventsStage({ lookBack: "1 hours", chunkRows: 7 });
      assert.equal((await load(stage, lake)).rowsOut, 20);
      // Committed late with a timestamp 30 minutes before the checkpoint.
      await db.sql.query(`INSERT INTO \`Event Log\` VALUES (100, '2026-02-01 09:40:00', 1, 'late')`);
      const second = await load(stage, lake);
      assert.ok((second.rowsOut ?? 0) >= 1);
      await compare(stage, lake);
    } finally {
      await db.sql.query("DELETE FROM `Event Log`");
      await lake.dispose();
    }
  });

  it("partitions a skewed key into ranges of similar row counts, and loses or doubles nothing", async () => {
    const lake = await scratchLake();
    try {
      // 2000 ids near 1, 10 near 10^15: equal-width ranges would put 99.5 % in one task.
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT seq, '2026-03-01', seq, 'dense' FROM seq_1_to_2000`);
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT 1000000000000000 + seq, '2026-03-01', seq, 'sparse' FROM seq_1_to_10`);
      const stage = bronze.table(maria(300), { table: "`Event Log`", name: "events", primaryKey: "id", partitions: { kind: "chunks", column: "id", count: 4 } });
      const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }), lake: lake.lake, secrets, projectRoot: process.cwd() });
      assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
      const parts = [0, 1, 2, 3].map((i) => record.tasks[`events#${i}`].rowsOut ?? 0);
      assert.equal(parts.reduce((a, b) => a + b, 0), 2010);
      assert.ok(Math.max(...parts) < 2010 * 0.4, `rows per partition ${parts.join(", ")}`);
      await compare(stage, lake);
    } finally {
      await db.sql.query("DELETE FROM `Event Log`");
      await lake.dispose();
    }
  });

  it("deletes: keyScan writes tombstones for keys gone from the source; latest drops them, history keeps them, a re-created key returns", async () => {
    const lake = await scratchLake();
    try {
      await db.sql.query(`INSERT INTO \`Event Log\` SELECT seq, TIMESTAMP'2026-04-01 00:00:00' + INTERVAL seq SECOND, seq, 'kept' FROM seq_1_to_300`);
      const stage = bronze.table(maria(40), {
        table: "`Event Log`", name: "events", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] }, deletes: "keyScan",
      });
      const first = await load(stage, lake);
      assert.equal(first.rowsOut, 300);
      assert.equal(first.note, undefined, "the first load scans no keys");
      await db.sql.query("DELETE FROM `Event Log` WHERE id % 7 = 0 OR id IN (1, 300)");
      await db.sql.query("UPDATE `Event Log` SET label = 'changed', updated_at = '2026-04-02 00:00:00' WHERE id = 2");
      const second = await load(stage, lake);
      assert.equal(second.rowsOut, 1, "the changed row; tombstones are not loaded rows");
      assert.equal(second.note, "44 keys deleted in the source: tombstones written");
      await compare(stage, lake);
      const tombstones = await engine.withConnection(async (con) => {
        await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { events: stage });
        return queryRows<{ n: bigint }>(con, "SELECT count(*) AS n FROM events__history WHERE _mallard_deleted");
      });
      assert.equal(Number(tombstones[0].n), 44);
      assert.equal((await load(stage, lake)).note, undefined, "deleted keys are not tombstoned twice");
      // Re-created with a newer cursor: the next load brings it back.
      await db.sql.query("INSERT INTO `Event Log` VALUES (7, '2026-04-03 00:00:00', 7, 'back')");
      const third = await load(stage, lake);
      assert.equal(third.rowsOut, 1);
      await compare(stage, lake);
    } finally {
      await db.sql.query("DELETE FROM `Event Log`");
      await lake.dispose();
    }
  });

  it("zero dates: NULL in bronze, counted in the run record", async () => {
    const lake = await scratchLake();
    try {
      await db.sql.query("CREATE TABLE dates (id int PRIMARY KEY, d date, dt datetime)");
      await db.sql.query("SET SESSION sql_mode = ''");
      await db.sql.query("INSERT INTO dates VALUES (1, '0000-00-00', '2024-01-01 00:00:00'), (2, '2024-00-10', '0000-00-00 00:00:00'), (3, '2024-05-06', NULL)");
      await db.sql.query("SET SESSION sql_mode = DEFAULT");
      const stage = bronze.table(maria(2), { table: `${db.database}.dates`, primaryKey: "id" });
      const task = await load(stage, lake);
      assert.equal(task.note, "d: 2 zero dates stored as NULL; dt: 1 zero dates stored as NULL");
      const rows = await engine.withConnection(async (con) => {
        await registerInputs(con, lake.lake, { pipeline: "t", stage: "test" }, { dates: stage });
        return queryRows(con, "SELECT id, d::VARCHAR AS d, dt::VARCHAR AS dt FROM dates ORDER BY id");
      });
      assert.deepEqual(rows, [{ id: 1, d: null, dt: "2024-01-01 00:00:00" }, { id: 2, d: null, dt: null }, { id: 3, d: "2024-05-06", dt: null }]);
    } finally {
      await lake.dispose();
    }
  });

  it("a cursor column MariaDB cannot order as bronze does is refused in one line", async () => {
    const lake = await scratchLake();
    try {
      await db.sql.query("CREATE TABLE sized (id int PRIMARY KEY, size enum('small','large'))");
      const stage = bronze.table(maria(), { table: "sized", primaryKey: "id", incremental: { cursor: "size" } });
      const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }), lake: lake.lake, secrets, projectRoot: process.cwd() });
      assert.equal(record.status, "failed");
      assert.match(String(record.tasks.sized.error), /incremental\.cursor: column "size" has type enum\('small','large'\), which cannot order a cursor/);
    } finally {
      await lake.dispose();
    }
  });
});

describe("the YAML form", () => {
  it("kind: mariadb and kind: mysql build the same stages as TypeScript", () => {
    for (const kind of ["mariadb", "mysql"] as const) {
      const p = pipelineFromYaml(`
name: shop
schedule: "0 0 * * * *"
sources:
  shop: { kind: ${kind}, connection: { secret: shop-db-url }, chunkRows: 5000 }
stages:
  - bronze: orders
    source: shop
    table: "shop.\`Order Lines\`"
    primaryKey: [id]
    incremental: { cursor: [updated_at, id], lookBack: 10 minutes }
    deletes: keyScan
    partitions: { kind: chunks, column: id, count: 4 }
`, "p.yml");
      const shop = source[kind]("shop", { connection: secret("shop-db-url"), chunkRows: 5000 });
      const expected = bronze.table(shop, {
        table: "shop.`Order Lines`", name: "orders", primaryKey: ["id"], incremental: { cursor: ["updated_at", "id"], lookBack: "10 minutes" },
        deletes: "keyScan", partitions: { kind: "chunks", column: "id", count: 4 },
      });
      assert.deepEqual(JSON.parse(JSON.stringify(p.stages[0])), JSON.parse(JSON.stringify(expected)));
      assert.equal((p.stages[0] as BronzeTable).source.kind, kind);
    }
  });
});
