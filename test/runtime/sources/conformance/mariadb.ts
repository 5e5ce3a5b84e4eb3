// The conformance adapter for MariaDB (the real server on 127.0.0.1:3306).
import { bronze, source, type BronzeTable } from "../../../../runtime/declare/index.ts";
import { testMariadb } from "../../../helpers/mariadb.ts";
import { type ConformanceSource, type Row, sqlScenarioStage, type StageOptions, type TypeCase } from "./harness.ts";

/** Columns of every MariaDB type the type map names, one row of values (row 2 is all NULL). */
const TYPES: readonly (TypeCase & { sql: string; value: string })[] = [
  { column: "i1", sql: "tinyint", value: "-128", duckType: "TINYINT", expected: ["-128"] },
  { column: "flag", sql: "tinyint(1)", value: "2", duckType: "TINYINT", expected: ["2"] },
  { column: "u1", sql: "tinyint unsigned", value: "255", duckType: "SMALLINT", expected: ["255"] },
  { column: "i2", sql: "smallint", value: "-32768", duckType: "SMALLINT", expected: ["-32768"] },
  { column: "i3", sql: "mediumint", value: "-8388608", duckType: "INTEGER", expected: ["-8388608"] },
  { column: "i4", sql: "int", value: "2147483647", duckType: "INTEGER", expected: ["2147483647"] },
  { column: "u4", sql: "int unsigned", value: "4294967295", duckType: "BIGINT", expected: ["4294967295"] },
  { column: "i8", sql: "bigint", value: "-9223372036854775808", duckType: "BIGINT", expected: ["-9223372036854775808"] },
  { column: "u8", sql: "bigint unsigned", value: "18446744073709551615", duckType: "DECIMAL(20,0)", expected: ["18446744073709551615"] },
  { column: "dec", sql: "decimal(38,10)", value: "1234567890123456789012345678.0123456789", duckType: "DECIMAL(38,10)", expected: ["'1234567890123456789012345678.0123456789'"] },
  { column: "dec65", sql: "decimal(65,30)", value: "12345678901234567890123456789012345.123456789012345678901234567890", duckType: "VARCHAR", expected: ["'12345678901234567890123456789012345.123456789012345678901234567890'"] },
  { column: "f4", sql: "float", value: "0.1", duckType: "FLOAT", expected: ["'0.1'"] },
  { column: "f8", sql: "double", value: "1.7976931348623157e308", duckType: "DOUBLE", expected: ["1.7976931348623157e308"] },
  { column: "b1", sql: "bit(1)", value: "b'1'", duckType: "BOOLEAN", expected: ["true"] },
  { column: "b12", sql: "bit(12)", value: "b'101010101010'", duckType: "BIGINT", expected: ["2730"] },
  { column: "d", sql: "date", value: "'1000-01-01'", duckType: "DATE", expected: ["'1000-01-01'"] },
  { column: "dt", sql: "datetime(6)", value: "'9999-12-31 23:59:59.999999'", duckType: "TIMESTAMP", expected: ["'9999-12-31 23:59:59.999999'"] },
  { column: "ts", sql: "timestamp(6) NULL", value: "'2038-01-19 03:14:07.999999'", duckType: "TIMESTAMP WITH TIME ZONE", expected: ["'2038-01-19 03:14:07.999999+00'"] },
  { column: "y", sql: "year", value: "2155", duckType: "SMALLINT", expected: ["2155"] },
  { column: "tm", sql: "time(6)", value: "'-838:59:59.000000'", duckType: "VARCHAR", expected: ["'-838:59:59.000000'"] },
  { column: "c", sql: "char(3)", value: "'abc'", duckType: "VARCHAR", expected: ["'abc'"] },
  { column: "vc", sql: "varchar(20)", value: "'🦆 utf8mb4, \"q\"'", duckType: "VARCHAR", expected: ["'🦆 utf8mb4, \"q\"'"] },
  { column: "tx", sql: "text", value: "'line\\nbreak'", duckType: "VARCHAR", expected: ["'line' || chr(10) || 'break'"] },
  { column: "en", sql: "enum('small','large')", value: "'large'", duckType: "VARCHAR", expected: ["'large'"] },
  { column: "st", sql: "set('a','b','c')", value: "'a,c'", duckType: "VARCHAR", expected: ["'a,c'"] },
  { column: "js", sql: "json", value: `'{"n": 12345678901234567890}'`, duckType: "JSON", expected: [`'{"n": 12345678901234567890}'`] },
  { column: "bin", sql: "binary(3)", value: "x'00ff10'", duckType: "BLOB", expected: ["'\\x00\\xFF\\x10'::BLOB"] },
  { column: "bl", sql: "blob", value: "x'0a00'", duckType: "BLOB", expected: ["'\\x0A\\x00'::BLOB"] },
  { column: "uu", sql: "uuid", value: "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", duckType: "UUID", expected: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"] },
  { column: "ip", sql: "inet6", value: "'2001:db8::1'", duckType: "VARCHAR", expected: ["'2001:db8::1'"] },
];

export async function mariadbSource(): Promise<ConformanceSource> {
  const db = await testMariadb("conformance");
  const q = (table: string) => `\`${table}\``;
  const maria = (chunkRows: number) => source.mariadb("maria", { connection: db.url, chunkRows });
  const values = (rows: readonly Row[], extra: boolean) => rows.map((r) => [r.id, r.updatedAt, r.name, r.amount, ...(extra ? [r.extra ?? null] : [])]);
  return {
    name: "MariaDB",
    async create(table) {
      await db.sql.query(`CREATE TABLE ${q(table)} (id bigint PRIMARY KEY, updated_at datetime NOT NULL, name text, amount decimal(12,2))`);
    },
    async insert(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      await db.sql.query(`INSERT INTO ${q(table)} (id, updated_at, name, amount${extra ? ", extra" : ""}) VALUES ?`, [values(rows, extra)]);
    },
    async update(table, rows) {
      const extra = rows.some((r) => r.extra !== undefined);
      for (const r of rows) {
        await db.sql.query(`UPDATE ${q(table)} SET updated_at = ?, name = ?, amount = ?${extra ? ", extra = ?" : ""} WHERE id = ?`,
          [r.updatedAt, r.name, r.amount, ...(extra ? [r.extra ?? null] : []), r.id]);
      }
    },
    async remove(table, ids) {
      await db.sql.query(`DELETE FROM ${q(table)} WHERE id IN (?)`, [ids]);
    },
    async addExtra(table) {
      await db.sql.query(`ALTER TABLE ${q(table)} ADD COLUMN extra text`);
    },
    async sourceRows(table) {
      const [found] = await db.sql.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = 'extra'`, [db.database, table]);
      const has = (found as unknown[]).length > 0;
      const [rows] = await db.sql.query(
        `SELECT CAST(id AS CHAR) AS id, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s') AS updatedAt, name, CAST(amount AS CHAR) AS amount${has ? ", extra" : ""} FROM ${q(table)} ORDER BY id`);
      return (rows as (Omit<Row, "id"> & { id: string })[]).map((r) => ({ ...r, id: Number(r.id) }));
    },
    stage: (table, options: StageOptions) => sqlScenarioStage(maria(options.chunkRows), `${db.database}.${table}`, options),
    types: [{
      label: "the type map",
      cases: TYPES,
      async create(table) {
        await db.sql.query(`CREATE TABLE ${q(table)} (id int PRIMARY KEY, ${TYPES.map((c) => `\`${c.column}\` ${c.sql}`).join(", ")})`);
        await db.sql.query(`INSERT INTO ${q(table)} VALUES (1, ${TYPES.map((c) => c.value).join(", ")}), (2, ${TYPES.map(() => "NULL").join(", ")})`);
      },
      stage: (table) => bronze.table(maria(100), { table: `${db.database}.${table}`, name: `types_${table}`, primaryKey: "id" }),
    }],
    close: () => db.close(),
  };
}
