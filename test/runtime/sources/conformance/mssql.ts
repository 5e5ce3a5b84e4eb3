// The conformance adapter for SQL Server / Azure SQL, against the server MALLARD_TEST_MSSQL names (none
// runs on this machine: see mssql.test.ts). Tables live in dbo under a per-process prefix and are dropped
// when the suite closes.
import type { ConnectionPool } from "mssql";
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { entraCredential, mssqlConfig, parseMssqlTarget } from "../../../../runtime/sources/mssql/connect.ts";
import { type ConformanceSource, type Row, sqlScenarioStage, type StageOptions, type TypeCase } from "./harness.ts";

/** Columns of every SQL Server type the type map names, one row of values (row 2 is all NULL). */
const TYPES: readonly (TypeCase & { sql: string; value: string })[] = [
  { column: "b", sql: "bit", value: "1", duckType: "BOOLEAN", expected: ["true"] },
  { column: "ti", sql: "tinyint", value: "255", duckType: "SMALLINT", expected: ["255"] },
  { column: "i8", sql: "bigint", value: "-9223372036854775808", duckType: "BIGINT", expected: ["-9223372036854775808"] },
  { column: "dec", sql: "decimal(38,10)", value: "1234567890123456789012345678.0123456789", duckType: "DECIMAL(38,10)", expected: ["'1234567890123456789012345678.0123456789'"] },
  { column: "m", sql: "money", value: "922337203685477.5807", duckType: "DECIMAL(19,4)", expected: ["922337203685477.5807"] },
  { column: "f", sql: "float", value: "0.1", duckType: "DOUBLE", expected: ["0.1"] },
  { column: "r", sql: "real", value: "0.1", duckType: "FLOAT", expected: ["0.1"] },
  { column: "d", sql: "date", value: "'0001-01-01'", duckType: "DATE", expected: ["'0001-01-01'"] },
  { column: "dt2", sql: "datetime2(7)", value: "'2026-01-02 03:04:05.1234567'", duckType: "TIMESTAMP", expected: ["'2026-01-02 03:04:05.123456'"] },
  { column: "dto", sql: "datetimeoffset(7)", value: "'2026-01-02 03:04:05.1234560 +02:00'", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-01-02 01:04:05.123456+00'"] },
  { column: "u", sql: "uniqueidentifier", value: "'6F9619FF-8B86-D011-B42D-00C04FC964FF'", duckType: "UUID", expected: ["'6f9619ff-8b86-d011-b42d-00c04fc964ff'"] },
  { column: "nv", sql: "nvarchar(max)", value: "N'naïve \"q\", 🦆'", duckType: "VARCHAR", expected: ["'naïve \"q\", 🦆'"] },
  { column: "vb", sql: "varbinary(max)", value: "0x00FF10", duckType: "BLOB", expected: ["'\\x00\\xFF\\x10'::BLOB"] },
  { column: "sv", sql: "sql_variant", value: "CAST(42 AS int)", duckType: "VARCHAR", expected: ["'42'"] },
];

export async function mssqlSource(connection: string): Promise<ConformanceSource> {
  const mssql = (await import("mssql")).default;
  const target = parseMssqlTarget(connection);
  const pool: ConnectionPool = await new mssql.ConnectionPool(mssqlConfig(target, target.authentication === "sql" ? undefined : await entraCredential(target))).connect();
  const prefix = `m${process.pid}_`;
  const created: string[] = [];
  const q = (table: string) => `[dbo].[${prefix}${table}]`;
  const run = (sql: string) => pool.request().query(sql);
  const server = (chunkRows: number) => source.sqlserver("erp", { connection, chunkRows });
  const text = (v: string | null | undefined) => (v === null || v === undefined ? "NULL" : `N'${v.replace(/'/g, "''")}'`);
  const hasExtra = async (table: string) => (await run(`SELECT 1 AS x FROM sys.columns WHERE object_id = OBJECT_ID(N'${q(table)}') AND name = 'extra'`)).recordset.length > 0;
  return {
    name: "SQL Server",
    async create(table) {
      await run(`CREATE TABLE ${q(table)} (id bigint PRIMARY KEY, updated_at datetime2(0) NOT NULL, name nvarchar(200), amount decimal(12,2))`);
      created.push(table);
    },
    async insert(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      const values = rows.map((r) => `(${r.id}, '${r.updatedAt}', ${text(r.name)}, ${r.amount ?? "NULL"}${extra ? `, ${text(r.extra)}` : ""})`);
      for (let i = 0; i < values.length; i += 500) {
        await run(`INSERT INTO ${q(table)} (id, updated_at, name, amount${extra ? ", extra" : ""}) VALUES ${values.slice(i, i + 500).join(", ")}`);
      }
    },
    async update(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      for (const r of rows) {
        await run(`UPDATE ${q(table)} SET updated_at = '${r.updatedAt}', name = ${text(r.name)}, amount = ${r.amount ?? "NULL"}${extra ? `, extra = ${text(r.extra)}` : ""} WHERE id = ${r.id}`);
      }
    },
    async remove(table, ids) {
      await run(`DELETE FROM ${q(table)} WHERE id IN (${ids.map(Number).join(", ")})`);
    },
    async addExtra(table) {
      await run(`ALTER TABLE ${q(table)} ADD extra nvarchar(200) NULL`);
    },
    async sourceRows(table) {
      const extra = await hasExtra(table);
      const result = await run(`SELECT CONVERT(varchar(20), id) AS id, CONVERT(varchar(19), updated_at, 120) AS updatedAt, name, CONVERT(varchar(20), amount) AS amount${extra ? ", extra" : ""} FROM ${q(table)} ORDER BY id`);
      return (result.recordset as (Omit<Row, "id"> & { id: string })[]).map((r) => ({ ...r, id: Number(r.id) }));
    },
    stage: (table, options: StageOptions) => sqlScenarioStage(server(options.chunkRows), `dbo.${prefix}${table}`, options),
    types: [{
      label: "the type map",
      cases: TYPES,
      async create(table) {
        await run(`CREATE TABLE ${q(table)} (id int PRIMARY KEY, ${TYPES.map((c) => `[${c.column}] ${c.sql}`).join(", ")})`);
        created.push(table);
        await run(`INSERT INTO ${q(table)} VALUES (1, ${TYPES.map((c) => c.value).join(", ")}), (2, ${TYPES.map(() => "NULL").join(", ")})`);
      },
      stage: (table) => bronze.table(server(100), { table: `dbo.${prefix}${table}`, name: `types_${table}`, primaryKey: "id" }),
    }],
    async close() {
      for (const table of created) await run(`DROP TABLE IF EXISTS ${q(table)}`).catch(() => undefined);
      await pool.close();
    },
  };
}
