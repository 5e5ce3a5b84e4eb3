// SQL Server / Azure SQL source without a server (none runs here): the type map, the T-SQL each column
// is read with, the queries a full, incremental (cursor and rowversion), look-back and partitioned read
// send, the connection options (TLS on by default, SQL login, Entra ID and managed identity), and the
// server's text formats parsed by the real CSV → Parquet chunk pipeline into exact DuckDB values.
// test/runtime/sources/mssql/server.test.ts runs against a real server when MALLARD_TEST_MSSQL is set.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Engine, queryRows } from "../../../../runtime/engine/engine.ts";
import { ConfigError, SourceError } from "../../../../runtime/errors.ts";
import { BlockWriter } from "../../../../runtime/sources/csv/blocks.ts";
import { type CsvBlock, csvToParquetChunks } from "../../../../runtime/sources/csv/chunks.ts";
import { defaultStaging } from "../../../../runtime/sources/csv/staging.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { mssqlConfig, parseMssqlTarget } from "../../../../runtime/sources/mssql/connect.ts";
import { columnsOf, columnsSql } from "../../../../runtime/sources/mssql/connector.ts";
import { parseMssqlTable, quoteMssqlIdent } from "../../../../runtime/sources/mssql/identifiers.ts";
import { MSSQL_SQL } from "../../../../runtime/sources/mssql/query.ts";
import { boundsSql, cursorMaxSql, rowCountSql, sampleSql } from "../../../../runtime/sources/mssql/split.ts";
import { createMssqlConnector } from "../../../../runtime/sources/mssql/index.ts";
import { type MssqlColumnInfo, mssqlSelectExpression, mssqlSelectList, refuseCursor } from "../../../../runtime/sources/mssql/types.ts";
import type { ResourceSchema } from "../../../../runtime/sources/source.ts";
import { buildSelect } from "../../../../runtime/sources/sql/select.ts";

const col = (name: string, type: string, extra: Partial<MssqlColumnInfo> = {}): MssqlColumnInfo =>
  ({ name, type, maxLength: 8, precision: 0, scale: 0, nullable: true, ...extra });

const CATALOG: MssqlColumnInfo[] = [
  col("id", "bigint", { nullable: false }),
  col("amount", "decimal", { precision: 38, scale: 10 }),
  col("price", "money"),
  col("ratio", "float"),
  col("small", "real"),
  col("flag", "bit"),
  col("tiny", "tinyint"),
  col("created", "datetime2", { scale: 7 }),
  col("legacy", "datetime"),
  col("at", "datetimeoffset", { scale: 7 }),
  col("day", "date"),
  col("clock", "time", { scale: 7 }),
  col("token", "uniqueidentifier"),
  col("note", "nvarchar", { maxLength: -1 }),
  col("code", "varchar", { maxLength: 10 }),
  col("blob", "varbinary", { maxLength: -1 }),
  col("anything", "sql_variant"),
  col("rv", "timestamp", { nullable: false }),
];

describe("SQL Server types", () => {
  it("maps every type the source reads, with the source's own spelling", () => {
    const columns = columnsOf(CATALOG, "[dbo].[t]");
    assert.deepEqual(columns.map((c) => [c.name, c.sourceType, c.duckType]), [
      ["id", "bigint", "BIGINT"], ["amount", "decimal(38,10)", "DECIMAL(38,10)"], ["price", "money", "DECIMAL(19,4)"],
      ["ratio", "float", "DOUBLE"], ["small", "real", "FLOAT"], ["flag", "bit", "BOOLEAN"], ["tiny", "tinyint", "SMALLINT"],
      ["created", "datetime2(7)", "TIMESTAMP"], ["legacy", "datetime", "TIMESTAMP"], ["at", "datetimeoffset(7)", "TIMESTAMPTZ"],
      ["day", "date", "DATE"], ["clock", "time(7)", "TIME"], ["token", "uniqueidentifier", "UUID"], ["note", "nvarchar(max)", "VARCHAR"],
      ["code", "varchar(10)", "VARCHAR"], ["blob", "varbinary(max)", "BLOB"], ["anything", "sql_variant", "VARCHAR"], ["rv", "rowversion", "BIGINT"],
    ]);
    assert.throws(() => columnsOf([col("shape", "vector")], "[dbo].[t]"), (e: unknown) =>
      e instanceof SourceError && /\[dbo\]\.\[t\]: column "shape" has type vector, which Mallard does not read; store it as text with columns: \{ "shape": "text" \}/.test(e.message));
  });

  it("reads each column as the server's exact text", () => {
    const byName = Object.fromEntries(columnsOf(CATALOG, "t").map((c) => [c.name, mssqlSelectExpression(c)]));
    assert.equal(byName.amount, "CONVERT(varchar(50), [amount])");
    assert.equal(byName.price, "CONVERT(varchar(40), CAST([price] AS decimal(19,4)))", "money keeps its 4 decimals (style 0 would print 2)");
    assert.equal(byName.ratio, "CONVERT(varchar(30), [ratio], 3)", "style 3: enough digits to round-trip a float");
    assert.equal(byName.created, "CONVERT(varchar(27), CAST([created] AS datetime2(7)), 121)");
    assert.equal(byName.at, "CONVERT(varchar(27), CAST(SWITCHOFFSET([at], '+00:00') AS datetime2(7)), 121) + '+00'", "the instant, in UTC");
    assert.equal(byName.token, "CONVERT(char(36), [token])", "the server's canonical text, not its mixed-endian bytes");
    assert.equal(byName.blob, "CONVERT(varchar(max), CAST([blob] AS varbinary(max)), 2)");
    assert.equal(byName.anything, "CONVERT(nvarchar(max), [anything])", "sql_variant as text");
    assert.equal(byName.rv, "CONVERT(varchar(20), CAST(CAST([rv] AS binary(8)) AS bigint))");
    assert.equal(byName.note, "[note]");
    assert.equal(mssqlSelectExpression({ name: "x", sourceType: "int", duckType: "VARCHAR", nullable: true, asText: true }), "CONVERT(nvarchar(max), [x])");
  });

  it("refuses cursors SQL Server does not order as their text", () => {
    const columns = Object.fromEntries(columnsOf(CATALOG, "t").map((c) => [c.name, c]));
    assert.match(refuseCursor(columns.token) ?? "", /orders uniqueidentifier values differently/);
    assert.match(refuseCursor(columns.anything) ?? "", /no usable order/);
    assert.equal(refuseCursor(columns.rv), undefined);
    assert.equal(refuseCursor(columns.created), undefined);
  });
});

describe("SQL Server queries", () => {
  const schema: ResourceSchema = { label: "[sales].[Order Lines]", address: ["sales", "Order Lines"], columns: columnsOf(CATALOG, "t") };

  it("quotes identifiers and parses table names", () => {
    assert.equal(quoteMssqlIdent("a]b"), "[a]]b]");
    assert.deepEqual(parseMssqlTable("orders"), ["dbo", "orders"]);
    assert.deepEqual(parseMssqlTable("sales.orders"), ["sales", "orders"]);
    assert.deepEqual(parseMssqlTable('[My Schema].[Odd.Name]'), ["My Schema", "Odd.Name"]);
    assert.deepEqual(parseMssqlTable('"Ünïcode"."x]y"'), ["Ünïcode", "x]y"]);
    assert.throws(() => parseMssqlTable("a.b.c"), ConfigError);
    assert.equal(columnsSql(["sales", "Order's"]), "SELECT c.name, TYPE_NAME(c.system_type_id) AS type, c.max_length, c.precision, c.scale, c.is_nullable FROM sys.columns c WHERE c.object_id = OBJECT_ID(N'[sales].[Order''s]') ORDER BY c.column_id");
  });

  it("a full read selects every column's text", () => {
    const { sql } = buildSelect({ schema, chunkRows: 10, workDir: "/tmp" }, MSSQL_SQL);
    assert.match(sql, /^SELECT CONVERT\(varchar\(50\), \[id\]\), CONVERT\(varchar\(50\), \[amount\]\), .* FROM \[sales\]\.\[Order Lines\]$/);
  });

  it("an incremental read by a composite cursor spells the comparison out, with look-back by DATEADD", () => {
    const slice = cursorSlice(schema, { columns: ["created", "id"], lookBackSeconds: 3600.5 }, { columns: ["created", "id"], values: ["2026-01-02 03:04:05.123456", "42"] }, undefined, refuseCursor);
    const { sql, cursorIndexes } = buildSelect({ schema, slice, chunkRows: 10, workDir: "/tmp" }, MSSQL_SQL);
    assert.deepEqual(cursorIndexes, [7, 0]);
    const from = "DATEADD(microsecond, -500000, DATEADD(second, -3600, CAST(N'2026-01-02 03:04:05.123456' AS datetime2(7))))";
    assert.ok(sql.includes(`WHERE [created] IS NOT NULL AND [id] IS NOT NULL AND [created] >= ${from} AND ([created] > ${from} OR ([created] = ${from} AND [id] > 42))`), sql);
    assert.ok(sql.endsWith(" ORDER BY [created], [id]"), sql);
  });

  it("an incremental read by rowversion compares its 8 bytes", () => {
    const slice = cursorSlice(schema, { columns: ["rv"] }, { columns: ["rv"], values: ["123456789"] }, { columns: ["rv"], values: ["123999999"] }, refuseCursor);
    const { sql } = buildSelect({ schema, slice, chunkRows: 10, workDir: "/tmp" }, MSSQL_SQL);
    assert.ok(sql.includes("[rv] > CAST(CAST(123456789 AS bigint) AS binary(8))"), sql);
    assert.ok(sql.includes("[rv] <= CAST(CAST(123999999 AS bigint) AS binary(8))"), sql);
    assert.ok(sql.endsWith("ORDER BY [rv]"), sql);
  });

  it("literals compare exactly: numbers bare, text as N'…', times and offsets cast", () => {
    const c = Object.fromEntries(schema.columns.map((x) => [x.name, x]));
    assert.equal(MSSQL_SQL.literal("12345678901234567890.0123456789", c.amount), "12345678901234567890.0123456789");
    assert.equal(MSSQL_SQL.literal("O'Brien ü", c.note), "N'O''Brien ü'");
    assert.equal(MSSQL_SQL.literal("2026-01-02 03:04:05.123456+00", c.at), "CAST(N'2026-01-02 03:04:05.123456+00:00' AS datetimeoffset(7))");
    assert.equal(MSSQL_SQL.literal("2026-01-02", c.day), "CAST(N'2026-01-02' AS date)");
    assert.equal(MSSQL_SQL.literal("1; DROP TABLE x", c.id), "N'1; DROP TABLE x'", "a value that is not a number stays a string");
    const ranged = buildSelect({ schema, range: { column: "id", from: "10", to: "20", includeNulls: true }, chunkRows: 10, workDir: "/tmp" }, MSSQL_SQL);
    assert.ok(ranged.sql.endsWith("WHERE (([id] >= 10 AND [id] < 20) OR [id] IS NULL)"), ranged.sql);
  });
});

describe("SQL Server partitions", () => {
  const schema: ResourceSchema = { label: "[sales].[Order Lines]", address: ["sales", "Order Lines"], columns: columnsOf(CATALOG, "t") };
  const c = Object.fromEntries(schema.columns.map((x) => [x.name, x]));

  it("the connector splits tables (quantiles of a page sample, steps, the newest cursor)", () => {
    assert.ok(createMssqlConnector("sqlserver://u:p@h/db").partitioner, "a partitioner is offered");
    assert.equal(rowCountSql(["sales", "Order Lines"]),
      "SELECT COALESCE(SUM(p.rows), 0) AS rows FROM sys.partitions p WHERE p.object_id = OBJECT_ID(N'[sales].[Order Lines]') AND p.index_id IN (0, 1)");
    assert.equal(sampleSql(schema, c.id, 0.5),
      "SELECT CONVERT(varchar(50), [id]) FROM [sales].[Order Lines] TABLESAMPLE SYSTEM (0.500000 PERCENT) WHERE [id] IS NOT NULL ORDER BY [id]");
    assert.equal(sampleSql(schema, c.code), "SELECT [code] FROM [sales].[Order Lines] WHERE [code] IS NOT NULL ORDER BY [code]", "a small table or a view: every row, in the server's collation order");
    assert.equal(boundsSql(schema, c.created),
      "SELECT CONVERT(varchar(27), CAST([created] AS datetime2(7)), 121) FROM (SELECT MIN([created]) AS [created] FROM [sales].[Order Lines]) AS lo UNION ALL " +
      "SELECT CONVERT(varchar(27), CAST([created] AS datetime2(7)), 121) FROM (SELECT MAX([created]) AS [created] FROM [sales].[Order Lines]) AS hi");
    assert.equal(cursorMaxSql(schema, [c.created, c.id]),
      "SELECT TOP 1 CONVERT(varchar(27), CAST([created] AS datetime2(7)), 121), CONVERT(varchar(50), [id]) FROM [sales].[Order Lines] " +
      "WHERE [created] IS NOT NULL AND [id] IS NOT NULL ORDER BY [created] DESC, [id] DESC");
  });
});

describe("SQL Server connections", () => {
  it("encrypts and verifies the certificate by default; a SQL login with a password", () => {
    const target = parseMssqlTarget("sqlserver://loader:p%40ss@db.example.com:14330/shop");
    assert.deepEqual({ ...target, description: undefined }, {
      server: "db.example.com", port: 14330, database: "shop", user: "loader", password: "p@ss", authentication: "sql",
      clientId: undefined, encrypt: true, trustServerCertificate: false, description: undefined,
    });
    assert.equal(target.description, "sqlserver://loader@db.example.com:14330/shop", "never the password");
    const config = mssqlConfig(target);
    assert.deepEqual([config.user, config.password, config.options?.encrypt, config.options?.trustServerCertificate], ["loader", "p@ss", true, false]);
  });

  it("without a password, Entra ID: the default chain, or a (user-assigned) managed identity, through a token credential", async () => {
    const entra = parseMssqlTarget("sqlserver://srv.database.windows.net/shop");
    assert.deepEqual([entra.authentication, entra.port, entra.encrypt], ["default", 1433, true]);
    const mi = parseMssqlTarget("sqlserver://srv.database.windows.net/shop?authentication=managed-identity&clientId=00000000-0000-0000-0000-000000000001");
    assert.deepEqual([mi.authentication, mi.clientId], ["managed-identity", "00000000-0000-0000-0000-000000000001"]);
    const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) };
    const config = mssqlConfig(mi, credential) as { authentication?: { type: string; options: { credential: unknown } }; user?: string };
    assert.equal(config.authentication?.type, "token-credential");
    assert.equal(config.authentication?.options.credential, credential);
    assert.equal(config.user, undefined);
    assert.throws(() => mssqlConfig(mi), /needs a token credential/);
  });

  it("turns TLS checks off only when asked, and names what is wrong in one line", () => {
    const dev = parseMssqlTarget("sqlserver://sa:x@localhost/db?encrypt=false&trustServerCertificate=true");
    assert.deepEqual([dev.encrypt, dev.trustServerCertificate], [false, true]);
    for (const [url, message] of [
      ["postgres://x@h/db", /is not a SQL Server address/],
      ["sqlserver://host", /needs a host and a database/],
      ["sqlserver://host/db?encrypt=yes", /encrypt must be true or false, not "yes"/],
      ["sqlserver://host/db?tls=1", /unknown option "tls"/],
      ["sqlserver://host/db?authentication=sql", /a SQL login needs a user and a password/],
      ["sqlserver://host/db?authentication=kerberos", /authentication must be sql, default or managed-identity/],
    ] as const) {
      assert.throws(() => parseMssqlTarget(url), (e: unknown) => e instanceof ConfigError && message.test(e.message), url);
    }
  });
});

describe("SQL Server text into DuckDB (the chunk pipeline)", () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.create({ threads: 1, memoryLimit: "256MB" });
  });
  after(() => engine.close());

  it("parses the server's formats into exact values", async () => {
    const columns = columnsOf(CATALOG, "t");
    // What SQL Server's CONVERTs above print for one row, and a row of NULLs (rowversion and id never are).
    const row = [
      "9223372036854775807", "1234567890123456789012345678.0123456789", "922337203685477.5807", "1.0000000000000001E-1", "3.4028235E+38",
      "1", "255", "2026-01-02 03:04:05.1234567", "1999-12-31 23:59:59.9970000", "2026-01-02 01:04:05.1234560+00", "0001-01-01",
      "23:59:59.9999999", "6F9619FF-8B86-D011-B42D-00C04FC964FF", "naïve \"quoted\", ✓\nline", "", "00FF10", "42", "123456789",
    ];
    const nulls = row.map((_, i) => (i === 0 || i === 17 ? row[i] : null));
    // Written by the shared block writer, as the connector's stream writes them.
    async function* blocks(): AsyncGenerator<CsvBlock> {
      const writer = new BlockWriter({ groupRows: 2, cursorIndexes: [], maxRowBytes: 1 << 20 });
      writer.row(row);
      writer.row(nulls);
      yield* writer.ready;
    }
    const chunks = csvToParquetChunks(blocks(), engine, {
      workDir: engine.workDir, fieldCount: columns.length, selectList: mssqlSelectList(columns), codec: "zstd", staging: defaultStaging, stopSource: () => undefined,
    });
    for await (const chunk of chunks) {
      const [got, empty] = await engine.withConnection((con) => queryRows<Record<string, unknown>>(con, `SELECT COLUMNS(*)::VARCHAR FROM read_parquet('${chunk.file}') ORDER BY note NULLS LAST`));
      assert.deepEqual(got, {
        id: "9223372036854775807", amount: "1234567890123456789012345678.0123456789", price: "922337203685477.5807", ratio: "0.1", small: "3.4028235e+38",
        flag: "true", tiny: "255", created: "2026-01-02 03:04:05.123456", legacy: "1999-12-31 23:59:59.997", at: "2026-01-02 01:04:05.123456+00",
        day: "0001-01-01", clock: "23:59:59.999999", token: "6f9619ff-8b86-d011-b42d-00c04fc964ff", note: "naïve \"quoted\", ✓\nline", code: "",
        blob: "\\x00\\xFF\\x10", anything: "42", rv: "123456789",
      });
      assert.deepEqual(Object.entries(empty).filter(([, v]) => v !== null).map(([k]) => k), ["id", "rv"], "NULL stays NULL; '' stays ''");
    }
  });
});
