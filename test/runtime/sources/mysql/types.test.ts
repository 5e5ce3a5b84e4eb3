// Type fidelity on the real MariaDB: every mapped type goes MariaDB → text protocol → CSV → DuckDB →
// Parquet and is compared, value by value, with the DuckDB value it must become: 65-digit decimals,
// BIGINT UNSIGNED above 2^63, TINYINT(1) holding 2, BIT(n), zero dates (NULL and a warning), TIMESTAMP
// vs DATETIME whatever the server's zone, TIME beyond a day and negative, YEAR, ENUM/SET, JSON, emoji,
// binary with zero bytes and quotes, UUID/INET6, and identifiers with backquotes, spaces and unicode.

import assert from "node:assert/strict";
import { copyFile, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../../../runtime/engine/sql.ts";
import { createMysqlConnector, type MysqlConnector } from "../../../../runtime/sources/mysql/index.ts";
import type { Chunk } from "../../../../runtime/sources/source.ts";
import { testMariadb, type TestMariadb } from "../../../helpers/mariadb.ts";

interface Case {
  /** Column type in MariaDB DDL. */
  readonly ddl: string;
  readonly duck: string;
  /** [MariaDB literal, DuckDB expression it must equal]; null is SQL NULL on both sides. */
  readonly values: readonly (readonly [string | null, string | null])[];
}

const d65 = "12345678901234567890123456789012345.123456789012345678901234567890";
const CASES: Readonly<Record<string, Case>> = {
  ti: { ddl: "tinyint", duck: "TINYINT", values: [["-128", "(-128)::TINYINT"], ["127", "127::TINYINT"]] },
  flag: { ddl: "tinyint(1)", duck: "TINYINT", values: [["2", "2::TINYINT"], ["1", "1::TINYINT"], ["0", "0::TINYINT"]] },
  tiu: { ddl: "tinyint unsigned", duck: "SMALLINT", values: [["255", "255"], ["0", "0"], ["1", "1"]] },
  mi: { ddl: "mediumint", duck: "INTEGER", values: [["-8388608", "-8388608"], ["8388607", "8388607"], [null, null]] },
  iu: { ddl: "int unsigned", duck: "BIGINT", values: [["4294967295", "4294967295"], ["0", "0"], ["7", "7"]] },
  bi: { ddl: "bigint", duck: "BIGINT", values: [["-9223372036854775808", "(-9223372036854775808)::BIGINT"], ["9223372036854775807", "9223372036854775807"], ["9007199254740993", "9007199254740993"]] },
  bu: { ddl: "bigint unsigned", duck: "DECIMAL(20,0)", values: [["18446744073709551615", "'18446744073709551615'::DECIMAL(20,0)"], ["9223372036854775809", "'9223372036854775809'::DECIMAL(20,0)"], ["0", "0::DECIMAL(20,0)"]] },
  d12: { ddl: "decimal(12,2)", duck: "DECIMAL(12,2)", values: [["-0.5", "'-0.50'::DECIMAL(12,2)"], ["9999999999.99", "'9999999999.99'::DECIMAL(12,2)"], ["0", "0::DECIMAL(12,2)"]] },
  d38: { ddl: "decimal(38,10)", duck: "DECIMAL(38,10)", values: [["9999999999999999999999999999.9999999999", "'9999999999999999999999999999.9999999999'::DECIMAL(38,10)"], ["-0.0000000001", "'-0.0000000001'::DECIMAL(38,10)"], [null, null]] },
  d65: { ddl: "decimal(65,30)", duck: "VARCHAR", values: [[d65, quoteLiteral(d65)], [`-${d65}`, quoteLiteral(`-${d65}`)], ["0", quoteLiteral("0.000000000000000000000000000000")]] },
  f4: { ddl: "float", duck: "FLOAT", values: [["16777217", "16777216::FLOAT"], ["0.1", "'0.1'::FLOAT"], ["3.4e38", "'3.4e38'::FLOAT"]] },
  f8: { ddl: "double", duck: "DOUBLE", values: [["0.30000000000000004e0", "0.30000000000000004::DOUBLE"], ["1.7976931348623157e308", "1.7976931348623157e308::DOUBLE"], ["5e-324", "'5e-324'::DOUBLE"]] },
  b5: { ddl: "bit(5)", duck: "BIGINT", values: [["b'10101'", "21"], ["b'0'", "0"], [null, null]] },
  b1: { ddl: "bit(1)", duck: "BOOLEAN", values: [["b'1'", "true"], ["b'0'", "false"], [null, null]] },
  b64: { ddl: "bit(64)", duck: "DECIMAL(20,0)", values: [["0xFFFFFFFFFFFFFFFF", "'18446744073709551615'::DECIMAL(20,0)"], ["b'1'", "1::DECIMAL(20,0)"], [null, null]] },
  dz: { ddl: "date", duck: "DATE", values: [["'0000-00-00'", null], ["'1000-01-01'", "DATE '1000-01-01'"], ["'9999-12-31'", "DATE '9999-12-31'"]] },
  dpart: { ddl: "date", duck: "DATE", values: [["'2024-00-15'", null], ["'2024-02-00'", null], ["'2024-02-29'", "DATE '2024-02-29'"]] },
  dt: { ddl: "datetime(6)", duck: "TIMESTAMP", values: [["'2024-03-31 02:30:00.123456'", "TIMESTAMP '2024-03-31 02:30:00.123456'"], ["'0000-00-00 00:00:00'", null], ["'9999-12-31 23:59:59.999999'", "TIMESTAMP '9999-12-31 23:59:59.999999'"]] },
  // Inserted with the session at +02:00: the instant is 10:00 UTC, and bronze holds that instant.
  ts: { ddl: "timestamp(6) null", duck: "TIMESTAMPTZ", values: [["'2024-06-01 12:00:00.5'", "TIMESTAMPTZ '2024-06-01 10:00:00.5+00'"], ["'2038-01-19 05:14:07.999999'", "TIMESTAMPTZ '2038-01-19 03:14:07.999999+00'"], [null, null]] },
  tm: { ddl: "time(6)", duck: "VARCHAR", values: [["'-838:59:59.5'", "'-838:59:59.500000'"], ["'25:00:00'", "'25:00:00.000000'"], ["'-00:00:01'", "'-00:00:01.000000'"]] },
  yr: { ddl: "year", duck: "SMALLINT", values: [["2155", "2155"], ["1901", "1901"], ["0", "0"]] },
  en: { ddl: "enum('small','LARGE','with,comma')", duck: "VARCHAR", values: [["'LARGE'", "'LARGE'"], ["'with,comma'", "'with,comma'"], [null, null]] },
  st: { ddl: "set('a','b','c')", duck: "VARCHAR", values: [["'a,c'", "'a,c'"], ["''", "''"], ["'b'", "'b'"]] },
  js: { ddl: "json", duck: "JSON", values: [[`'{"big": 18446744073709551617, "s": "é\\\\n😀"}'`, `'{"big": 18446744073709551617, "s": "é\\n😀"}'::JSON`], ["'[]'", "'[]'::JSON"], [null, null]] },
  tx: { ddl: "text", duck: "VARCHAR", values: [["''", "''"], ["'say \"hi\", then\\nleave\\r\\n'", "'say \"hi\", then' || chr(10) || 'leave' || chr(13) || chr(10)"], ["'😀 emoji, ünïcödé'", "'😀 emoji, ünïcödé'"]] },
  l1: { ddl: "varchar(20) character set latin1", duck: "VARCHAR", values: [["'café'", "'café'"], ["'a\\\\b'", "'a\\b'"], [null, null]] },
  bn: { ddl: "binary(4)", duck: "BLOB", values: [["0x00FF2C22", "'\\x00\\xFF,\"'::BLOB"], ["''", "'\\x00\\x00\\x00\\x00'::BLOB"], [null, null]] },
  bl: { ddl: "blob", duck: "BLOB", values: [["0x0A0D", "'\\x0A\\x0D'::BLOB"], ["''", "''::BLOB"], ["0x00", "'\\x00'::BLOB"]] },
  uu: { ddl: "uuid", duck: "UUID", values: [["'f47ac10b-58cc-4372-a567-0e02b2c3d479'", "'f47ac10b-58cc-4372-a567-0e02b2c3d479'::UUID"], ["'00000000-0000-0000-0000-000000000000'", "'00000000-0000-0000-0000-000000000000'::UUID"], [null, null]] },
  i6: { ddl: "inet6", duck: "VARCHAR", values: [["'2001:db8::1'", "'2001:db8::1'"], ["'::ffff:192.0.2.1'", "'::ffff:192.0.2.1'"], [null, null]] },
};


// (MariaDB identifiers are utf8mb3: no emoji in names, only in values.)
const HOSTILE = 'wéird `name" ü€';
const TABLE = "Ordèr `Lines`";

let db: TestMariadb;
let engine: Engine;
let connector: MysqlConnector;
let keep: string;

before(async () => {
  db = await testMariadb("types");
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
  connector = createMysqlConnector(db.url, { flavor: "mariadb" });
  keep = await mkdtemp(join(engine.workDir, "kept-"));
  const names = Object.keys(CASES);
  const columns = names.map((n) => `\`${n}\` ${CASES[n].ddl}`).join(", ");
  const table = `\`${TABLE.replace(/`/g, "``")}\``;
  await db.sql.query(`CREATE TABLE ${table} (id int PRIMARY KEY, \`${HOSTILE.replace(/`/g, "``")}\` varchar(10), ${columns})`);
  // Zero dates need a permissive sql_mode; TIMESTAMP literals are read in the session's zone.
  await db.sql.query("SET SESSION sql_mode = '', time_zone = '+02:00'");
  for (let row = 0; row < 3; row++) {
    const values = names.map((n) => CASES[n].values[row]?.[0] ?? "NULL");
    await db.sql.query(`INSERT INTO ${table} VALUES (${row}, 'v${row}', ${values.join(", ")})`);
  }
  await db.sql.query("SET SESSION sql_mode = DEFAULT, time_zone = '+00:00'");
});

after(async () => {
  await connector.close();
  await db.close();
  await engine.close();
});

async function extract(): Promise<{ chunks: Chunk[]; relation: string }> {
  const schema = await connector.discover({ kind: "table", table: `${db.database}.\`${TABLE.replace(/`/g, "``")}\`` });
  const chunks: Chunk[] = [];
  const files: string[] = [];
  for await (const chunk of connector.read({ schema, chunkRows: 2, workDir: engine.workDir }, engine)) {
    const file = join(keep, `c${files.length}-${Date.now()}.parquet`);
    await copyFile(chunk.file, file);
    files.push(file);
    chunks.push(chunk);
  }
  return { chunks, relation: `read_parquet([${files.map(quoteLiteral).join(", ")}])` };
}

describe("MariaDB types", () => {
  test("discover: the exact type map, names as the server stores them", async () => {
    const schema = await connector.discover({ kind: "table", table: `\`${TABLE.replace(/`/g, "``")}\`` });
    assert.deepEqual(schema.address, [db.database, TABLE]);
    assert.equal(schema.columns[1].name, HOSTILE);
    for (const [name, c] of Object.entries(CASES)) {
      assert.equal(schema.columns.find((col) => col.name === name)?.duckType, c.duck, `${name} (${c.ddl})`);
    }
    assert.equal(schema.columns.find((c) => c.name === "js")?.sourceType, "json", "MariaDB's JSON (LONGTEXT with json_valid) is found");
  });

  test("every value arrives as the DuckDB value it must be, typed as the map says", async () => {
    const { chunks, relation } = await extract();
    assert.deepEqual(chunks.map((c) => c.rows), [2, 1]);
    const types = await engine.withConnection((con) => queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE SELECT * FROM ${relation}`));
    const typeOf = new Map(types.map((t) => [t.column_name, t.column_type]));
    assert.equal(typeOf.get(HOSTILE), "VARCHAR");
    for (const [name, c] of Object.entries(CASES)) {
      const expected = c.duck === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : c.duck;
      assert.equal(typeOf.get(name), expected, `${name}: Parquet type`);
      for (let row = 0; row < c.values.length; row++) {
        const want = c.values[row][1];
        const col = quoteIdent(name);
        const [r] = await engine.withConnection((con) => queryRows<{ ok: boolean; got: string | null }>(con,
          `SELECT ${want === null ? `${col} IS NULL` : `${col} IS NOT DISTINCT FROM CAST(${want} AS ${c.duck})`} AS ok, CAST(${col} AS VARCHAR) AS got FROM ${relation} WHERE id = ${row}`));
        assert.ok(r.ok, `${name} row ${row}: got ${r.got}, expected ${want}`);
      }
    }
    const [hostile] = await engine.withConnection((con) => queryRows<{ v: string }>(con, `SELECT ${quoteIdent(HOSTILE)} AS v FROM ${relation} WHERE id = 1`));
    assert.equal(hostile.v, "v1");
  });

  test("zero dates are NULL in bronze and named in the chunk's warnings", async () => {
    const { chunks } = await extract();
    // Rows 0 and 1 make the first chunk; row 2 holds no zero date.
    assert.deepEqual(chunks[0].warnings, ["dz: 1 zero dates stored as NULL", "dpart: 2 zero dates stored as NULL", "dt: 1 zero dates stored as NULL"]);
    assert.equal(chunks[1].warnings, undefined);
  });

  test("a missing table is one line naming it and the server, never a password", async () => {
    const withPassword = createMysqlConnector(db.url.replace("root@", "root:s3cret@"), { name: "shop", flavor: "mariadb" });
    await assert.rejects(withPassword.discover({ kind: "table", table: "nope" }), (e: Error) => {
      assert.doesNotMatch(e.message, /s3cret/);
      return /cannot connect to mysql:\/\/root@127\.0\.0\.1:3306|table `nope` not found/.test(e.message) && !e.message.includes("\n");
    });
    await withPassword.close();
    await assert.rejects(connector.discover({ kind: "table", table: "nope" }), /table `nope` not found in MariaDB mysql:\/\/root@127\.0\.0\.1:3306\/mallard_types_/);
  });
});
