// Reconciliation against the real MariaDB: the checksum MariaDB computes equals DuckDB's over bronze for
// the types it covers (unsigned ids, decimals, latin1 and utf8mb4 text, DATETIME(6), TIMESTAMP, DATE, UUID,
// TINYINT(1)); rows drifted behind the cursor are counted.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, secret, source, type BronzeTable } from "../../../runtime/declare/index.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain, secretEnvName } from "../../../runtime/secrets/secrets.ts";
import { scratchLake } from "../../helpers/lake.ts";
import { testMariadb, type TestMariadb } from "../../helpers/mariadb.ts";

let db: TestMariadb;
let secrets: SecretChain;
let lake: Awaited<ReturnType<typeof scratchLake>>;

before(async () => {
  db = await testMariadb("reconcile");
  secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("maria-url")]: db.url })]);
  lake = await scratchLake();
});
after(async () => {
  await db.close();
  await lake.dispose();
});

const maria = () => source.mariadb("maria", { connection: secret("maria-url"), chunkRows: 50 });

async function load(stage: BronzeTable) {
  const record = await runLocal({ pipeline: pipeline("t", { schedule: "0 0 * * * *", stages: [stage] }), lake: lake.lake, secrets, projectRoot: process.cwd() });
  assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
  return record.tasks[stage.name];
}

describe("reconcile: MariaDB", () => {
  it("MariaDB's checksum equals DuckDB's over bronze, and drift behind the cursor is counted", async () => {
    await db.sql.query(`CREATE TABLE typed (
      id bigint unsigned PRIMARY KEY, updated_at datetime(6) NOT NULL, amount decimal(12,2), latin varchar(20) CHARACTER SET latin1,
      name varchar(40) CHARACTER SET utf8mb4, stamp timestamp(6) NULL, day date, uid uuid, flag tinyint(1))`);
    await db.sql.query(`INSERT INTO typed VALUES
      (18446744073709551615, '2026-01-01 00:00:01.5', 12.50, 'café', 'héllo ✓', '2024-01-01 08:00:00.123456', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1),
      (1, '2026-01-01 00:00:02', -0.01, NULL, '', NULL, '1969-12-31', NULL, 0),
      (2, '2026-01-01 00:00:03', 0, 'x', 'NULL', '1970-01-01 00:00:01', NULL, '00000000-0000-0000-0000-000000000000', NULL)`);
    const stage = bronze.table(maria(), {
      table: "typed", name: "typed", primaryKey: "id", incremental: { cursor: ["updated_at", "id"] },
      reconcile: { columns: ["amount", "latin", "name", "stamp", "day", "uid", "flag"] },
    });
    const first = (await load(stage)).reconciliation!;
    assert.equal(first.status, "inSync", JSON.stringify(first));
    assert.equal(first.method, "pushdown");
    assert.deepEqual(first.source, first.lake);
    assert.equal(first.source?.rows, 3);

    await db.sql.query("DELETE FROM typed WHERE id = 1");
    await db.sql.query("UPDATE typed SET latin = 'çà' WHERE id = 2");
    await db.sql.query("INSERT INTO typed (id, updated_at) VALUES (5, '2025-01-01')");
    const second = (await load(stage)).reconciliation!;
    assert.equal(second.status, "drift", JSON.stringify(second));
    assert.deepEqual([second.missing, second.changed, second.deleted, second.pending], [1, 1, 1, 0]);
    assert.deepEqual(second.sample, [
      { id: "1", problem: "deleted" },
      { id: "2", problem: "changed latin: source çà, bronze x" },
      { id: "5", problem: "missing" },
    ]);
  });
});
