// The conformance adapter for Oracle, against the server MALLARD_TEST_ORACLE names (none runs on this
// machine: see oracle.test.ts). Tables and columns are quoted lower-case names, so every query exercises
// Oracle's quoted identifiers; each table is dropped when the suite closes.
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { oracleConnectAttributes, parseOracleTarget } from "../../../../runtime/sources/oracle/connect.ts";
import { SESSION_SQL } from "../../../../runtime/sources/oracle/connector.ts";
import { loadOracleDriver } from "../../../../runtime/sources/oracle/driver.ts";
import { type ConformanceSource, type Row, sqlScenarioStage, type StageOptions, type TypeCase } from "./harness.ts";

/** Columns of every Oracle type the type map names, one row of values (row 2 is all NULL). */
const TYPES: readonly (TypeCase & { sql: string; value: string })[] = [
  { column: "n18", sql: "NUMBER(18)", value: "-999999999999999999", duckType: "BIGINT", expected: ["-999999999999999999"] },
  { column: "n38", sql: "NUMBER(38)", value: "12345678901234567890123456789012345678", duckType: "DECIMAL(38,0)", expected: ["12345678901234567890123456789012345678"] },
  { column: "int", sql: "INTEGER", value: "9007199254740993", duckType: "DECIMAL(38,0)", expected: ["9007199254740993"] },
  { column: "dec", sql: "NUMBER(12,2)", value: "-0.5", duckType: "DECIMAL(12,2)", expected: ["-0.50"] },
  { column: "num", sql: "NUMBER", value: "1234567890.123456789012345678901234567", duckType: "VARCHAR", expected: ["'1234567890.123456789012345678901234567'"] },
  { column: "bf", sql: "BINARY_FLOAT", value: "0.1f", duckType: "FLOAT", expected: ["0.1"] },
  { column: "bd", sql: "BINARY_DOUBLE", value: "1.7976931348623157e308d", duckType: "DOUBLE", expected: ["1.7976931348623157e308"] },
  { column: "d", sql: "DATE", value: "TO_DATE('2026-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS')", duckType: "TIMESTAMP", expected: ["'2026-01-02 03:04:05'"] },
  { column: "ts9", sql: "TIMESTAMP(9)", value: "TIMESTAMP '2026-01-02 03:04:05.123456789'", duckType: "TIMESTAMP", expected: ["'2026-01-02 03:04:05.123456'"] },
  { column: "tstz", sql: "TIMESTAMP(6) WITH TIME ZONE", value: "TIMESTAMP '2026-01-02 03:04:05.123456 +02:00'", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-01-02 01:04:05.123456+00'"] },
  { column: "tsltz", sql: "TIMESTAMP(6) WITH LOCAL TIME ZONE", value: "TIMESTAMP '2026-01-02 03:04:05.5 -05:00'", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2026-01-02 08:04:05.5+00'"] },
  { column: "ym", sql: "INTERVAL YEAR(2) TO MONTH", value: "INTERVAL '-2-3' YEAR TO MONTH", duckType: "VARCHAR", expected: ["'-27 months'"] },
  { column: "ds", sql: "INTERVAL DAY(2) TO SECOND(6)", value: "INTERVAL '3 04:05:06.5' DAY TO SECOND", duckType: "VARCHAR", expected: ["'3 days 14706.500000000 seconds'"] },
  { column: "vc", sql: "VARCHAR2(100 CHAR)", value: "UNISTR('Zo\\00EB \"q\", \\D83E\\DD86')", duckType: "VARCHAR", expected: ["'Zoë \"q\", 🦆'"] },
  { column: "nvc", sql: "NVARCHAR2(50)", value: "UNISTR('\\00FC')", duckType: "VARCHAR", expected: ["'ü'"] },
  { column: "ch", sql: "CHAR(3)", value: "'ab'", duckType: "VARCHAR", expected: ["'ab '"] },
  { column: "cl", sql: "CLOB", value: "TO_CLOB(RPAD('x', 4000, 'x')) || TO_CLOB(RPAD('y', 4000, 'y'))", duckType: "VARCHAR", expected: ["repeat('x', 4000) || repeat('y', 4000)"] },
  { column: "ncl", sql: "NCLOB", value: "TO_NCLOB('short')", duckType: "VARCHAR", expected: ["'short'"] },
  { column: "bl", sql: "BLOB", value: "HEXTORAW('00FF10')", duckType: "BLOB", expected: ["'\\x00\\xFF\\x10'::BLOB"] },
  { column: "rw", sql: "RAW(16)", value: "HEXTORAW('0102')", duckType: "BLOB", expected: ["'\\x01\\x02'::BLOB"] },
];

export async function oracleSource(connection: string): Promise<ConformanceSource> {
  const driver = await loadOracleDriver();
  const db = await driver.getConnection(oracleConnectAttributes(parseOracleTarget(connection)));
  await db.execute(SESSION_SQL);
  const prefix = `m${process.pid}_`;
  const created: string[] = [];
  const q = (table: string) => `"${prefix}${table}"`;
  const run = async (sql: string, binds: readonly unknown[] = []) => {
    await db.execute(sql, binds);
    await db.execute("COMMIT");
  };
  const ora = (chunkRows: number) => source.oracle("ora", { connection, chunkRows });
  const hasExtra = async (table: string) =>
    ((await db.execute(`SELECT 1 FROM user_tab_columns WHERE table_name = :1 AND column_name = 'extra'`, [`${prefix}${table}`])).rows ?? []).length > 0;
  const DATE = "TO_DATE(:2, 'YYYY-MM-DD HH24:MI:SS')";
  return {
    name: "Oracle",
    async create(table) {
      await run(`CREATE TABLE ${q(table)} ("id" NUMBER(18) PRIMARY KEY, "updated_at" DATE NOT NULL, "name" VARCHAR2(200), "amount" NUMBER(12,2))`);
      created.push(table);
    },
    async insert(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      for (const r of rows) {
        await db.execute(`INSERT INTO ${q(table)} ("id", "updated_at", "name", "amount"${extra ? ', "extra"' : ""}) VALUES (:1, ${DATE}, :3, TO_NUMBER(:4)${extra ? ", :5" : ""})`,
          [r.id, r.updatedAt, r.name, r.amount, ...(extra ? [r.extra ?? null] : [])]);
      }
      await db.execute("COMMIT");
    },
    async update(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      for (const r of rows) {
        await db.execute(`UPDATE ${q(table)} SET "updated_at" = TO_DATE(:1, 'YYYY-MM-DD HH24:MI:SS'), "name" = :2, "amount" = TO_NUMBER(:3)${extra ? ', "extra" = :4' : ""} WHERE "id" = :${extra ? 5 : 4}`,
          [r.updatedAt, r.name, r.amount, ...(extra ? [r.extra ?? null] : []), r.id]);
      }
      await db.execute("COMMIT");
    },
    async remove(table, ids) {
      await run(`DELETE FROM ${q(table)} WHERE "id" IN (${ids.map(Number).join(", ")})`);
    },
    async addExtra(table) {
      await run(`ALTER TABLE ${q(table)} ADD ("extra" VARCHAR2(200))`);
    },
    async sourceRows(table) {
      const extra = await hasExtra(table);
      const result = await db.execute(`SELECT TO_CHAR("id"), TO_CHAR("updated_at", 'YYYY-MM-DD HH24:MI:SS'), "name", TO_CHAR("amount", 'FM9999999999990.00')${extra ? ', "extra"' : ""} FROM ${q(table)} ORDER BY "id"`);
      return ((result.rows ?? []) as (string | null)[][]).map(([id, updatedAt, name, amount, x]) =>
        ({ id: Number(id), updatedAt: updatedAt!, name, amount, ...(extra ? { extra: x ?? null } : {}) }) as Row);
    },
    stage: (table, options: StageOptions) => sqlScenarioStage(ora(options.chunkRows), q(table), options),
    types: [{
      label: "the type map",
      cases: TYPES,
      async create(table) {
        await run(`CREATE TABLE ${q(table)} ("id" NUMBER(9) PRIMARY KEY, ${TYPES.map((c) => `"${c.column}" ${c.sql}`).join(", ")})`);
        created.push(table);
        await run(`INSERT INTO ${q(table)} VALUES (1, ${TYPES.map((c) => c.value).join(", ")})`);
        await run(`INSERT INTO ${q(table)} ("id") VALUES (2)`);
      },
      stage: (table) => bronze.table(ora(100), { table: q(table), name: `types_${table}`, primaryKey: "id" }),
    }],
    async close() {
      for (const table of created) await db.execute(`DROP TABLE ${q(table)} PURGE`).catch(() => undefined);
      await db.close();
    },
  };
}
