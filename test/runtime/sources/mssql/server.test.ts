// SQL Server against a real server, when MALLARD_TEST_MSSQL names one (sqlserver://sa:…@host/db?trustServerCertificate=true);
// reported skipped otherwise (none runs on this machine). A full load, then an incremental one by
// rowversion, through runLocal, each compared row for row with the source; the hostile types land exactly.
// The shared conformance suite runs against the same server: test/runtime/sources/conformance/mssql.test.ts.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bronze, pipeline, source } from "../../../../runtime/declare/index.ts";
import { Engine, lakeAccess, queryRows } from "../../../../runtime/engine/engine.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { registerInputs } from "../../../../runtime/stages/inputs.ts";
import { scratchLake } from "../../../helpers/lake.ts";

const URL = process.env.MALLARD_TEST_MSSQL;

describe("SQL Server source on a real server", { skip: !URL && "MALLARD_TEST_MSSQL is not set (no SQL Server here)" }, () => {
  let lake: Awaited<ReturnType<typeof scratchLake>>;
  let pool: import("mssql").ConnectionPool;
  const table = `mallard_test_${process.pid}`;
  before(async () => {
    const mssql = (await import("mssql")).default;
    const { parseMssqlTarget, mssqlConfig } = await import("../../../../runtime/sources/mssql/connect.ts");
    pool = await new mssql.ConnectionPool(mssqlConfig(parseMssqlTarget(URL!))).connect();
    await pool.request().query(`CREATE TABLE dbo.[${table}] (id bigint PRIMARY KEY, amount decimal(38,10), at datetimeoffset(7), token uniqueidentifier, note nvarchar(max), blob varbinary(max), flag bit, price money, v sql_variant, rv rowversion)`);
    await pool.request().query(`INSERT INTO dbo.[${table}] (id, amount, at, token, note, blob, flag, price, v) VALUES
      (1, 1234567890123456789012345678.0123456789, '2026-01-02 03:04:05.1234560 +02:00', '6F9619FF-8B86-D011-B42D-00C04FC964FF', N'naïve "q" ✓', 0x00FF, 1, 922337203685477.5807, CAST(42 AS int)),
      (2, NULL, NULL, NULL, N'', NULL, 0, NULL, NULL)`);
    lake = await scratchLake();
  });
  after(async () => {
    await pool?.request().query(`DROP TABLE IF EXISTS dbo.[${table}]`).catch(() => undefined);
    await pool?.close();
    await lake?.dispose();
  });

  const stage = () => bronze.table(source.sqlserver("erp", { connection: URL!, chunkRows: 1 }), { table: `dbo.${table}`, name: "t", primaryKey: "id", incremental: { cursor: ["rv"] } });
  const load = async () => {
    const record = await runLocal({ pipeline: pipeline("m", { schedule: "0 0 * * * *", stages: [stage()] }), lake: lake.lake, secrets: new SecretChain([]), projectRoot: process.cwd() });
    assert.equal(record.status, "succeeded", JSON.stringify(record.tasks));
    return record.tasks.t;
  };
  const rows = async () => {
    const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake.lake));
    try {
      return await engine.withConnection(async (con) => {
        await registerInputs(con, lake.lake, { pipeline: "m", stage: "test" }, { t: stage() });
        return queryRows(con, "SELECT id, amount::VARCHAR AS amount, at::VARCHAR AS at, token::VARCHAR AS token, note, hex(blob) AS blob, flag, price::VARCHAR AS price, v FROM t ORDER BY id");
      });
    } finally {
      await engine.close();
    }
  };

  it("loads every row with its exact value, then only the changed ones by rowversion", async () => {
    assert.equal((await load()).rowsOut, 2);
    assert.deepEqual((await rows())[0], {
      id: 1n, amount: "1234567890123456789012345678.0123456789", at: "2026-01-02 01:04:05.123456+00", token: "6f9619ff-8b86-d011-b42d-00c04fc964ff",
      note: 'naïve "q" ✓', blob: "00FF", flag: true, price: "922337203685477.5807", v: "42",
    });
    await pool.request().query(`UPDATE dbo.[${table}] SET note = N'changed' WHERE id = 2`);
    assert.equal((await load()).rowsOut, 1, "only the row whose rowversion moved");
    assert.deepEqual((await rows()).map((r) => r.note), ['naïve "q" ✓', "changed"]);
  });
});
