// Oracle source without a server (none runs here): the type map, the SQL each column is read with, the
// queries a full, incremental (composite cursor, look-back) and partitioned read send, the literals, the
// connection options (service name, SID, Easy Connect, descriptor, TLS), the declarations, and values as
// the thin driver returns them (NUMBER text, numbers, Buffers, the driver's own IntervalDS/IntervalYM
// objects) written by the shared block writer and typed by the real CSV → Parquet pipeline in DuckDB.
// The only stand-in is a LOB locator (an object with `length` and `getData`, as the driver's Lob has).
// read.test.ts runs the connector itself over a stand-in driver; test/runtime/sources/conformance/oracle.test.ts
// runs the shared suite against a real server when MALLARD_TEST_ORACLE is set.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import oracledb from "oracledb";
import { bronze, pipeline, source } from "../../../../runtime/declare/index.ts";
import { pipelineFromYaml } from "../../../../runtime/declare/yaml.ts";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { ConfigError, SourceError } from "../../../../runtime/errors.ts";
import { BlockWriter } from "../../../../runtime/sources/csv/blocks.ts";
import { type CsvBlock, csvToParquetChunks } from "../../../../runtime/sources/csv/chunks.ts";
import { defaultStaging } from "../../../../runtime/sources/csv/staging.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { oracleConnectAttributes, parseOracleTarget } from "../../../../runtime/sources/oracle/connect.ts";
import { columnsOf, COLUMNS_SQL, createOracleConnector, SESSION_SQL } from "../../../../runtime/sources/oracle/connector.ts";
import { parseOracleTable, quoteOracleIdent } from "../../../../runtime/sources/oracle/identifiers.ts";
import { ORACLE_SQL, oracleString } from "../../../../runtime/sources/oracle/query.ts";
import { boundsSql, cursorMaxSql, sampleSql, TABLE_ROWS_SQL } from "../../../../runtime/sources/oracle/split.ts";
import { isPlainText, type OracleColumnInfo, oracleSelectItems, oracleSelectList, refuseCursor } from "../../../../runtime/sources/oracle/types.ts";
import { numberAsText, oracleText, rowLayout, rowTextsWithLobs } from "../../../../runtime/sources/oracle/values.ts";
import type { ResourceSchema } from "../../../../runtime/sources/source.ts";
import { buildSelect } from "../../../../runtime/sources/sql/select.ts";

const col = (name: string, dataType: string, extra: Partial<OracleColumnInfo> = {}): OracleColumnInfo =>
  ({ name, dataType, dataLength: 22, precision: null, scale: null, charLength: 0, nullable: true, ...extra });

const CATALOG: OracleColumnInfo[] = [
  col("ID", "NUMBER", { precision: 18, scale: 0, nullable: false }),
  col("Big Id", "NUMBER", { precision: 38, scale: 0 }),
  col("INT_COL", "NUMBER", { scale: 0 }),
  col("AMOUNT", "NUMBER", { precision: 12, scale: 2 }),
  col("TINY", "NUMBER", { precision: 3, scale: 5 }),
  col("HUNDREDS", "NUMBER", { precision: 5, scale: -2 }),
  col("ANY_NUM", "NUMBER"),
  col("F", "FLOAT", { precision: 126 }),
  col("F49", "FLOAT", { precision: 49 }),
  col("BF", "BINARY_FLOAT"),
  col("BD", "BINARY_DOUBLE"),
  col("D", "DATE"),
  col("TS", "TIMESTAMP(9)"),
  col("TS6", "TIMESTAMP(6)"),
  col("TSTZ", "TIMESTAMP(6) WITH TIME ZONE"),
  col("TSLTZ", "TIMESTAMP(6) WITH LOCAL TIME ZONE"),
  col("YM", "INTERVAL YEAR(2) TO MONTH"),
  col("DS", "INTERVAL DAY(2) TO SECOND(9)"),
  col("NAME", "VARCHAR2", { charLength: 100 }),
  col("NNAME", "NVARCHAR2", { charLength: 50 }),
  col("CODE", "CHAR", { charLength: 3 }),
  col("DOC", "CLOB"),
  col("NDOC", "NCLOB"),
  col("PIC", "BLOB"),
  col("HASH", "RAW", { dataLength: 16 }),
  col("FLAG", "BOOLEAN"),
  col("RID", "ROWID"),
];

describe("Oracle types", () => {
  it("maps every type with Oracle's own spelling: NUMBER(p,0) whole, NUMBER(p,s) decimal, bare NUMBER exact text", () => {
    assert.deepEqual(columnsOf(CATALOG, "t").map((c) => [c.name, c.sourceType, c.duckType]), [
      ["ID", "NUMBER(18,0)", "BIGINT"], ["Big Id", "NUMBER(38,0)", "DECIMAL(38,0)"], ["INT_COL", "NUMBER(*,0)", "DECIMAL(38,0)"],
      ["AMOUNT", "NUMBER(12,2)", "DECIMAL(12,2)"], ["TINY", "NUMBER(3,5)", "DECIMAL(5,5)"], ["HUNDREDS", "NUMBER(5,-2)", "BIGINT"],
      ["ANY_NUM", "NUMBER", "VARCHAR"], ["F", "FLOAT(126)", "VARCHAR"], ["F49", "FLOAT(49)", "DOUBLE"],
      ["BF", "BINARY_FLOAT", "FLOAT"], ["BD", "BINARY_DOUBLE", "DOUBLE"], ["D", "DATE", "TIMESTAMP"], ["TS", "TIMESTAMP(9)", "TIMESTAMP"],
      ["TS6", "TIMESTAMP(6)", "TIMESTAMP"], ["TSTZ", "TIMESTAMP(6) WITH TIME ZONE", "TIMESTAMPTZ"], ["TSLTZ", "TIMESTAMP(6) WITH LOCAL TIME ZONE", "TIMESTAMPTZ"],
      ["YM", "INTERVAL YEAR(2) TO MONTH", "VARCHAR"], ["DS", "INTERVAL DAY(2) TO SECOND(9)", "VARCHAR"], ["NAME", "VARCHAR2(100)", "VARCHAR"],
      ["NNAME", "NVARCHAR2(50)", "VARCHAR"], ["CODE", "CHAR(3)", "VARCHAR"], ["DOC", "CLOB", "VARCHAR"], ["NDOC", "NCLOB", "VARCHAR"],
      ["PIC", "BLOB", "BLOB"], ["HASH", "RAW(16)", "BLOB"], ["FLAG", "BOOLEAN", "BOOLEAN"], ["RID", "ROWID", "VARCHAR"],
    ]);
    assert.equal(columnsOf([col("N", "NUMBER", { precision: 9, scale: 0 })], "t")[0].duckType, "INTEGER");
    assert.throws(() => columnsOf([col("SHAPE", "SDO_GEOMETRY", { dataTypeOwner: "MDSYS" })], '"GIS"."PARCELS"'), (e: unknown) =>
      e instanceof SourceError && /"GIS"\."PARCELS": column "SHAPE" has type MDSYS\.SDO_GEOMETRY, which Mallard does not read; read the table through a view/.test(e.message));
  });

  it("reads times as TO_CHAR text (UTC instants for zoned ones, BC marked), LOBs inline when short and by locator when long", () => {
    const items = Object.fromEntries(columnsOf(CATALOG, "t").map((c) => [c.name, oracleSelectItems(c)]));
    assert.deepEqual(items.ID, ['"ID"'], "NUMBER as itself: the driver is asked for its exact text");
    assert.deepEqual(items.D, [`TO_CHAR("D", 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN "D" < DATE '0001-01-01' THEN ' BC' END`]);
    assert.deepEqual(items.TS, [`TO_CHAR("TS", 'YYYY-MM-DD HH24:MI:SS.FF9') || CASE WHEN "TS" < TIMESTAMP '0001-01-01 00:00:00' THEN ' BC' END`]);
    assert.match(items.TS6[0], /'YYYY-MM-DD HH24:MI:SS\.FF6'/);
    assert.deepEqual(items.TSTZ, [`CASE WHEN "TSTZ" IS NOT NULL THEN TO_CHAR(SYS_EXTRACT_UTC("TSTZ"), 'YYYY-MM-DD HH24:MI:SS.FF6') || '+00' || ` +
      `CASE WHEN SYS_EXTRACT_UTC("TSTZ") < TIMESTAMP '0001-01-01 00:00:00' THEN ' BC' END END`]);
    assert.match(items.TSLTZ[0], /SYS_EXTRACT_UTC\(CAST\("TSLTZ" AS TIMESTAMP WITH TIME ZONE\)\)/);
    assert.deepEqual(items.DOC, [
      `CASE WHEN DBMS_LOB.GETLENGTH("DOC") BETWEEN 1 AND 1000 THEN DBMS_LOB.SUBSTR("DOC", 1000, 1) END`,
      `CASE WHEN DBMS_LOB.GETLENGTH("DOC") > 1000 OR DBMS_LOB.GETLENGTH("DOC") = 0 THEN "DOC" END`,
    ]);
    assert.match(items.PIC.join(), /BETWEEN 1 AND 2000 THEN DBMS_LOB\.SUBSTR\("PIC", 2000, 1\)/);
    assert.deepEqual(items["Big Id"], ['"Big Id"']);
  });

  it("refuses cursors whose order is not their value's", () => {
    const c = Object.fromEntries(columnsOf(CATALOG, "t").map((x) => [x.name, x]));
    assert.match(refuseCursor(c.DS) ?? "", /does not sort as its value/);
    assert.match(refuseCursor(c.DOC) ?? "", /no usable order/);
    assert.match(refuseCursor(c.RID) ?? "", /no usable order/);
    assert.equal(refuseCursor(c.D), undefined);
    assert.equal(refuseCursor(c.ANY_NUM), undefined, "a bare NUMBER is compared as a number by the server");
    assert.deepEqual([isPlainText(c.ID), isPlainText(c.NAME), isPlainText(c.HASH)], [true, false, true]);
  });
});

describe("Oracle queries", () => {
  const schema: ResourceSchema = { label: '"SALES"."Order Lines"', address: ["SALES", "Order Lines"], columns: columnsOf(CATALOG, "t") };

  it("quotes identifiers exactly and reads declared table names as Oracle does", () => {
    assert.equal(quoteOracleIdent("Order Lines"), '"Order Lines"');
    assert.throws(() => quoteOracleIdent('a"b'), SourceError);
    assert.deepEqual(parseOracleTable("hr.employees"), ["HR", "EMPLOYEES"]);
    assert.deepEqual(parseOracleTable("employees"), [undefined, "EMPLOYEES"]);
    assert.deepEqual(parseOracleTable('"Sales"."Order Lines"'), ["Sales", "Order Lines"]);
    assert.deepEqual(parseOracleTable('hr."Odd.Name"'), ["HR", "Odd.Name"]);
    for (const bad of ["a.b.c", "my table", '"open', "hr."]) assert.throws(() => parseOracleTable(bad), ConfigError, bad);
    assert.match(COLUMNS_SQL, /FROM all_tab_columns c WHERE c\.owner = COALESCE\(:1, SYS_CONTEXT\('USERENV', 'CURRENT_SCHEMA'\)\) AND c\.table_name = :2 ORDER BY c\.column_id$/);
    assert.equal(SESSION_SQL, "ALTER SESSION SET TIME_ZONE = '+00:00' NLS_SORT = BINARY NLS_COMP = BINARY NLS_NUMERIC_CHARACTERS = '.,'");
  });

  it("a full read selects every column's text from the quoted table", () => {
    const { sql } = buildSelect({ schema, columns: ["ID", "Big Id", "D"], chunkRows: 10, workDir: "/tmp" }, ORACLE_SQL);
    assert.equal(sql, `SELECT "ID", "Big Id", TO_CHAR("D", 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN "D" < DATE '0001-01-01' THEN ' BC' END FROM "SALES"."Order Lines"`);
  });

  it("an incremental read by a composite cursor spells the comparison out, look-back by NUMTODSINTERVAL, bounded by the run's end", () => {
    const slice = cursorSlice(schema, { columns: ["D", "ID"], lookBackSeconds: 600 },
      { columns: ["D", "ID"], values: ["2026-01-02 03:04:05", "42"] }, { columns: ["D", "ID"], values: ["2026-01-03 00:00:00", "99"] }, refuseCursor);
    const { sql, cursorIndexes } = buildSelect({ schema, slice, chunkRows: 10, workDir: "/tmp" }, ORACLE_SQL);
    assert.deepEqual(cursorIndexes, [11, 0]);
    const from = `(TO_DATE('2026-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS') - NUMTODSINTERVAL(600, 'SECOND'))`;
    const until = `TO_DATE('2026-01-03 00:00:00', 'YYYY-MM-DD HH24:MI:SS')`;
    assert.ok(sql.includes(`WHERE "D" IS NOT NULL AND "ID" IS NOT NULL AND "D" >= ${from} AND ("D" > ${from} OR ("D" = ${from} AND "ID" > 42))` +
      ` AND "D" <= ${until} AND ("D" < ${until} OR ("D" = ${until} AND "ID" <= 99))`), sql);
    assert.ok(sql.endsWith(` ORDER BY "D", "ID"`), sql);
    assert.throws(() => cursorSlice(schema, { columns: ["DS"] }, undefined, undefined, refuseCursor), /column "DS" .*cannot order a cursor/);
  });

  it("a partition reads one key range, NULL keys with the first", () => {
    const { sql } = buildSelect({ schema, columns: ["ID"], range: { column: "ID", from: "1000", to: "2000", includeNulls: true }, chunkRows: 10, workDir: "/tmp" }, ORACLE_SQL);
    assert.equal(sql, `SELECT "ID" FROM "SALES"."Order Lines" WHERE (("ID" >= 1000 AND "ID" < 2000) OR "ID" IS NULL)`);
  });

  it("splits for parallel extraction at quantiles of a block (else row) sample, by steps, and up to the newest cursor", () => {
    const c = Object.fromEntries(schema.columns.map((x) => [x.name, x]));
    assert.ok(createOracleConnector("oracle://u:p@h/svc").partitioner, "a partitioner is offered");
    assert.equal(TABLE_ROWS_SQL, "SELECT num_rows FROM all_tables WHERE owner = :1 AND table_name = :2");
    assert.equal(sampleSql(schema, c.ID, { percent: 0.25, by: "block" }), `SELECT "ID" FROM "SALES"."Order Lines" SAMPLE BLOCK (0.250000) WHERE "ID" IS NOT NULL ORDER BY "ID"`);
    assert.equal(sampleSql(schema, c.ID, { percent: 250, by: "row" }), `SELECT "ID" FROM "SALES"."Order Lines" SAMPLE (99.999999) WHERE "ID" IS NOT NULL ORDER BY "ID"`);
    assert.equal(sampleSql(schema, c.NAME), `SELECT "NAME" FROM "SALES"."Order Lines" WHERE "NAME" IS NOT NULL ORDER BY "NAME"`);
    assert.equal(boundsSql(schema, c.ID), `SELECT "ID" FROM (SELECT MIN("ID") AS "ID" FROM "SALES"."Order Lines") UNION ALL SELECT "ID" FROM (SELECT MAX("ID") AS "ID" FROM "SALES"."Order Lines")`);
    assert.equal(cursorMaxSql(schema, [c.D, c.ID]),
      `SELECT TO_CHAR("D", 'YYYY-MM-DD HH24:MI:SS') || CASE WHEN "D" < DATE '0001-01-01' THEN ' BC' END, "ID" FROM "SALES"."Order Lines" ` +
      `WHERE "D" IS NOT NULL AND "ID" IS NOT NULL ORDER BY "D" DESC, "ID" DESC FETCH FIRST 1 ROWS ONLY`);
  });

  it("literals compare as their column's type, whatever the session's NLS settings or character set", () => {
    const c = Object.fromEntries(schema.columns.map((x) => [x.name, x]));
    assert.equal(ORACLE_SQL.literal("-.5", c.ANY_NUM), "-.5");
    assert.equal(ORACLE_SQL.literal("123456789012345678901234567890", c["Big Id"]), "123456789012345678901234567890");
    assert.equal(ORACLE_SQL.literal("1; DROP TABLE x", c.ID), "'1; DROP TABLE x'", "what is not a number stays a string");
    assert.equal(ORACLE_SQL.literal("0.10000000149011612", c.BF), "0.10000000149011612f");
    assert.equal(ORACLE_SQL.literal("-Infinity", c.BD), "-BINARY_DOUBLE_INFINITY");
    assert.equal(ORACLE_SQL.literal("2026-01-02 03:04:05.000", c.D), "TO_DATE('2026-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS')", "a step boundary's zero fraction");
    assert.equal(ORACLE_SQL.literal("2026-01-02 03:04:05.5", c.D), "TO_TIMESTAMP('2026-01-02 03:04:05.500000000', 'YYYY-MM-DD HH24:MI:SS.FF9')");
    assert.equal(ORACLE_SQL.literal("0044-03-15 12:00:00 BC", c.D), "TO_DATE('0044-03-15 12:00:00 BC', 'YYYY-MM-DD HH24:MI:SS BC')");
    assert.equal(ORACLE_SQL.literal("2026-01-02 03:04:05.123456789", c.TS), "TO_TIMESTAMP('2026-01-02 03:04:05.123456789', 'YYYY-MM-DD HH24:MI:SS.FF9')");
    assert.equal(ORACLE_SQL.literal("2026-01-02 03:04:05.123456+00", c.TSTZ), "TO_TIMESTAMP_TZ('2026-01-02 03:04:05.123456000 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM')");
    assert.equal(ORACLE_SQL.literal("2026-01-02 03:04:05+0530", c.TSLTZ), "TO_TIMESTAMP_TZ('2026-01-02 03:04:05.000000000 +05:30', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM')");
    assert.equal(ORACLE_SQL.literal("O'Brien", c.NAME), "'O''Brien'");
    assert.equal(ORACLE_SQL.literal("Zoë \\ 🦆", c.NAME), "TO_CHAR(UNISTR('Zo\\00EB \\\\ \\D83E\\DD86'))");
    assert.equal(ORACLE_SQL.literal("ü", c.NNAME), "UNISTR('\\00FC')", "national text stays national");
    assert.equal(oracleString("a\nb"), "TO_CHAR(UNISTR('a\\000Ab'))");
  });
});

describe("Oracle connections", () => {
  it("a service name through Easy Connect; the password never in the description", () => {
    const target = parseOracleTarget("oracle://loader:p%40ss%2Fw@db.example.com/ORCLPDB1");
    assert.deepEqual(oracleConnectAttributes(target), { user: "loader", password: "p@ss/w", connectString: "db.example.com:1521/ORCLPDB1", connectTimeout: 30 });
    assert.equal(target.description, "oracle://loader@db.example.com:1521/ORCLPDB1");
  });

  it("a SID through a connect descriptor, TLS as TCPS with the certificate's DN checked", () => {
    const sid = parseOracleTarget("oracle://u:pw@10.0.0.5:1522?sid=ORCL");
    assert.equal(sid.connectString, "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=10.0.0.5)(PORT=1522))(CONNECT_DATA=(SID=ORCL)))");
    assert.equal(sid.description, "oracle://u@10.0.0.5:1522/(SID=ORCL)");
    const tls = parseOracleTarget("oracle://u:pw@adb.eu-frankfurt-1.oraclecloud.com:1522/abc_high.adb.oraclecloud.com?ssl=true&sslServerCertDN=CN%3Dadb");
    assert.deepEqual(oracleConnectAttributes(tls), {
      user: "u", password: "pw", connectString: "tcps://adb.eu-frankfurt-1.oraclecloud.com:1522/abc_high.adb.oraclecloud.com", connectTimeout: 30,
      sslServerDNMatch: true, sslServerCertDN: "CN=adb",
    });
    const sidTls = parseOracleTarget("oracle://u:pw@h?sid=X&ssl=true&wallet=%2Fhome%2Fwallet&walletPassword=w&connectTimeout=5");
    assert.deepEqual(oracleConnectAttributes(sidTls), {
      user: "u", password: "pw", connectString: "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCPS)(HOST=h)(PORT=1521))(CONNECT_DATA=(SID=X)))", connectTimeout: 5,
      sslServerDNMatch: true, walletLocation: "/home/wallet", walletPassword: "w",
    });
  });

  it("Oracle's own user/password@connect_string, with Easy Connect or a full descriptor", () => {
    const easy = parseOracleTarget("scott/tiger@dbhost:1521/sales.example.com");
    assert.deepEqual([easy.user, easy.password, easy.connectString, easy.tls, easy.description], ["scott", "tiger", "dbhost:1521/sales.example.com", false, "oracle://scott@dbhost:1521/sales.example.com"]);
    const descriptor = "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCPS)(HOST=db.internal)(PORT=2484))(CONNECT_DATA=(SERVICE_NAME=erp)))";
    const quoted = parseOracleTarget(`erp_reader/"p@ss/word"@${descriptor}`);
    assert.deepEqual([quoted.password, quoted.connectString, quoted.tls, quoted.description], ["p@ss/word", descriptor, true, "oracle://erp_reader@db.internal:2484/erp (TLS)"]);
  });

  it("names what is wrong in one line, never quoting the password", () => {
    for (const [connection, message] of [
      ["oracle://u:secret@h", /needs a service name .* or a SID/],
      ["oracle://u:secret@h/svc?sid=X", /a service name \(the path\) or a SID \(\?sid=\), not both/],
      ["oracle://u@h/svc", /needs a user and a password/],
      ["oracle://u:secret@h/svc?ssl=yes", /ssl must be true or false, not "yes"/],
      ["oracle://u:secret@h/svc?tls=true", /unknown option "tls"/],
      ["oracle://u:secret@h/s)(x", /holds characters a connect string cannot carry/],
      ["scott@host/svc", /expected oracle:\/\/user:password@host\/service_name or user\/password@connect_string/],
      ["scott/secret", /no @ found/],
    ] as const) {
      assert.throws(() => parseOracleTarget(connection), (e: unknown) => e instanceof ConfigError && message.test(e.message) && !e.message.includes("secret"), connection);
    }
  });

  it("a server that cannot be reached is one SourceError naming the source, without the password (the real driver, a closed port)", async () => {
    const connector = createOracleConnector("oracle://loader:s3cret-pw@127.0.0.1:9/ORCL?connectTimeout=3", { name: "erp" });
    await assert.rejects(connector.discover({ kind: "table", table: "hr.employees" }), (e: unknown) =>
      e instanceof SourceError && /^connecting in Oracle source "erp" at oracle:\/\/loader@127\.0\.0\.1:9\/ORCL: /.test(e.message) && !e.message.includes("s3cret") && !e.message.includes("\n"));
    await connector.close();
  });

  it("is declared in TypeScript and YAML alike, and validated like the other sources", () => {
    const erp = source.oracle("erp", { connection: "oracle://u:p@h/svc", chunkRows: 5000 });
    assert.deepEqual(erp, { kind: "oracle", name: "erp", connection: "oracle://u:p@h/svc", chunkRows: 5000 });
    const stage = bronze.table(erp, { table: '"Sales"."Order Lines"', name: "order_lines", primaryKey: "ID", incremental: { cursor: ["MODIFIED_AT", "ID"], lookBack: "10 minutes" }, deletes: "keyScan" });
    assert.equal(pipeline("erp", { schedule: "0 0 * * * *", stages: [stage] }).stages.length, 1);
    const yaml = pipelineFromYaml([
      "name: erp", "schedule: '0 0 * * * *'", "sources:", "  erp: { kind: oracle, connection: { secret: erp-db } }", "stages:",
      "  - bronze: order_lines", "    source: erp", '    table: \'"Sales"."Order Lines"\'', "    primaryKey: ID",
      "    incremental: { cursor: [MODIFIED_AT, ID], lookBack: 10 minutes }", "    partitions: { kind: chunks, column: ID, count: 4 }",
    ].join("\n"), "erp.yaml");
    const loaded = yaml.stages[0] as { source: { kind: string; connection: unknown } };
    assert.deepEqual([loaded.source.kind, loaded.source.connection], ["oracle", { kind: "secret", name: "erp-db" }]);
    assert.throws(() => pipelineFromYaml("name: x\nschedule: '0 0 * * * *'\nsources:\n  erp: { kind: oracle, connection: x, port: 1 }\nstages:\n  - bronze: t\n    source: erp\n    table: t\n    primaryKey: id\n", "x.yaml"),
      (e: unknown) => e instanceof ConfigError && /x\.yaml: sources\.erp.*port/.test(e.message));
  });
});

describe("Oracle values into DuckDB (as the thin driver returns them, through the chunk pipeline)", () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.create({ threads: 1, memoryLimit: "256MB" });
  });
  after(() => engine.close());

  const columns = columnsOf(CATALOG, "t");
  const lob = (data: string | Buffer) => ({ length: data.length, getData: async () => data, destroy: () => {} });

  it("NUMBER text, floats, times, intervals, text, LOBs inline and by locator, RAW and BOOLEAN land exactly; NULL stays NULL", async () => {
    assert.equal(numberAsText(oracledb)({ name: "ID", dbType: oracledb.DB_TYPE_NUMBER })?.type, oracledb.DB_TYPE_VARCHAR);
    assert.equal(numberAsText(oracledb)({ name: "D", dbType: oracledb.DB_TYPE_DATE }), undefined);
    const layout = rowLayout(columns);
    const longDoc = "é".repeat(1500);
    // Fields in select order: a LOB column has two (its inline value, its locator).
    const row: unknown[] = [
      "999999999999999999", "12345678901234567890123456789012345678", "-7", "-.5", ".00123", "12300",
      "1234567890.12345678901234567890123456789", ".1", 0.1, 0.10000000149011612, -Infinity, "0044-03-15 12:00:00 BC", "2026-01-02 03:04:05.123456789",
      "9999-12-31 23:59:59.999999", "2026-01-02 01:04:05.123456+00", "2026-01-02 01:04:05.000001+00",
      new oracledb.IntervalYM({ years: -2, months: -3 }), new oracledb.IntervalDS({ days: -3, hours: -4, minutes: -5, seconds: -6, fseconds: -123456789 }),
      'Mixed "quotes", commas\nand lines', "Zoë 🦆", "AB ",
      null, lob(longDoc), "short ✓", null, Buffer.from([0, 255, 16]), null, Buffer.from("0102", "hex"), true, "AAAR3sAAEAAAACXAAA",
    ];
    const nulls = Array.from({ length: row.length }, (_, i) => (i === 0 ? "1" : null));
    const empty = nulls.map((v, i) => (i === layout.offsets[columns.findIndex((c) => c.name === "DOC")] + 1 ? lob("") : v));
    async function* blocks(): AsyncGenerator<CsvBlock> {
      const writer = new BlockWriter({ groupRows: 10, plain: columns.map(isPlainText), cursorIndexes: [], maxRowBytes: 1 << 20 });
      for (const [i, r] of [row, nulls, empty].entries()) writer.row(await rowTextsWithLobs(r, layout, 1 << 20, i + 1));
      writer.finish();
      yield* writer.ready;
    }
    const chunks = csvToParquetChunks(blocks(), engine, {
      workDir: engine.workDir, fieldCount: columns.length, selectList: oracleSelectList(columns), codec: "zstd", staging: defaultStaging, stopSource: () => undefined,
    });
    let seen = 0;
    for await (const chunk of chunks) {
      seen += chunk.rows;
      const [types] = await engine.withConnection((con) => queryRows<Record<string, string>>(con, `SELECT * FROM (DESCRIBE SELECT * FROM read_parquet('${chunk.file}')) PIVOT (first(column_type) FOR column_name IN ('TS', 'TSTZ', 'DOC', 'PIC', 'FLAG'))`));
      assert.deepEqual(Object.values(types).slice(-5), ["TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "VARCHAR", "BLOB", "BOOLEAN"]);
      const rows = await engine.withConnection((con) => queryRows<Record<string, unknown>>(con, `SELECT COLUMNS(*)::VARCHAR FROM read_parquet('${chunk.file}')`));
      assert.deepEqual(rows[0], {
        ID: "999999999999999999", "Big Id": "12345678901234567890123456789012345678", INT_COL: "-7", AMOUNT: "-0.50", TINY: ".00123" /* DuckDB prints DECIMAL(5,5) so */, HUNDREDS: "12300",
        ANY_NUM: "1234567890.12345678901234567890123456789", F: ".1", F49: "0.1", BF: "0.1", BD: "-inf", D: "0044-03-15 (BC) 12:00:00",
        TS: "2026-01-02 03:04:05.123456", TS6: "9999-12-31 23:59:59.999999", TSTZ: "2026-01-02 01:04:05.123456+00", TSLTZ: "2026-01-02 01:04:05.000001+00",
        YM: "-27 months", DS: "-3 days -14706.123456789 seconds", NAME: 'Mixed "quotes", commas\nand lines', NNAME: "Zoë 🦆", CODE: "AB ",
        DOC: longDoc, NDOC: "short ✓", PIC: "\\x00\\xFF\\x10", HASH: "\\x01\\x02", FLAG: "true", RID: "AAAR3sAAEAAAACXAAA",
      });
      assert.deepEqual(Object.entries(rows[1]).filter(([, v]) => v !== null).map(([k]) => k), ["ID"], "NULL stays NULL");
      assert.equal(rows[2].DOC, "", "an empty CLOB is '', not NULL");
      const [interval] = await engine.withConnection((con) => queryRows<{ ds: string; ym: string }>(con, `SELECT CAST(DS AS INTERVAL)::VARCHAR AS ds, CAST(YM AS INTERVAL)::VARCHAR AS ym FROM read_parquet('${chunk.file}') LIMIT 1`));
      assert.deepEqual(interval, { ds: "-3 days -04:05:06.123456", ym: "-2 years -3 months" }, "intervals' text restores them in DuckDB");
    }
    assert.equal(seen, 3);
  });

  it("refuses a LOB longer than a row may be before reading it, naming the row and the column", async () => {
    const layout = rowLayout(columns);
    const row: unknown[] = new Array(layout.offsets.at(-1)! + 1).fill(null);
    let read = false;
    row[layout.offsets[columns.findIndex((c) => c.name === "PIC")] + 1] = { length: 10_000, getData: async () => ((read = true), Buffer.alloc(10_000)) };
    await assert.rejects(rowTextsWithLobs(row, layout, 4096, 7), /row 7: column "PIC" holds a BLOB of 10000 bytes, more than the 4096 bytes a row may have \(raise maxRowBytes\)/);
    assert.equal(read, false, "never read");
    assert.throws(() => oracleText(new Date(0), columns[0]), /column "ID" \(NUMBER\(18,0\)\): the driver returned a Date/);
  });
});
