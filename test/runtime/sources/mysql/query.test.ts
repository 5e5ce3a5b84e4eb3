// How the MySQL source spells things, without a server: identifiers split and quoted whatever the
// declaration's quoting, literals that compare exactly (integers unquoted, strings as hex), composite
// cursors spelled out for MySQL's planner, partition boundaries (quantiles and exact steps), and the
// connection string parsed with TLS on by default away from loopback.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SourceError } from "../../../../runtime/errors.ts";
import { cursorSlice } from "../../../../runtime/sources/incremental.ts";
import { parseTarget } from "../../../../runtime/sources/mysql/connect.ts";
import { quoteMysqlIdent, splitMysqlTable } from "../../../../runtime/sources/mysql/identifiers.ts";
import { MYSQL_SQL, mysqlLiteral } from "../../../../runtime/sources/mysql/query.ts";
import { quantilePoints, stepPoints } from "../../../../runtime/sources/sql/split.ts";
import type { ResourceSchema, SourceColumn } from "../../../../runtime/sources/source.ts";
import { buildSelect } from "../../../../runtime/sources/sql/select.ts";

const col = (name: string, duckType: string, sourceType = duckType.toLowerCase()): SourceColumn => ({ name, duckType, sourceType, nullable: true });

describe("identifiers", () => {
  test("backquotes doubled; tables split by either quoting", () => {
    assert.equal(quoteMysqlIdent("a`b c"), "`a``b c`");
    assert.deepEqual(splitMysqlTable("shop.orders"), ["shop", "orders"]);
    assert.deepEqual(splitMysqlTable("`my db`.`Order ``Lines``.v2`"), ["my db", "Order `Lines`.v2"]);
    assert.deepEqual(splitMysqlTable('"my db"."Örder"'), ["my db", "Örder"]);
    assert.deepEqual(splitMysqlTable("orders"), ["orders"]);
    for (const bad of ["a.b.c", "shop.", "`open", ""]) assert.throws(() => splitMysqlTable(bad), SourceError, bad);
  });
});

describe("literals and the SELECT", () => {
  test("integers and decimals unquoted, floats as doubles, dates quoted, text as hex", () => {
    assert.equal(mysqlLiteral("18446744073709551615", col("id", "DECIMAL(20,0)")), "18446744073709551615");
    assert.equal(mysqlLiteral("-12.50", col("a", "DECIMAL(12,2)")), "-12.50");
    assert.equal(mysqlLiteral("0.1", col("f", "DOUBLE")), "0.1e0");
    assert.equal(mysqlLiteral("2024-01-01 10:00:00.5", col("t", "TIMESTAMP")), "'2024-01-01 10:00:00.5'");
    assert.equal(mysqlLiteral("it's \\ 😀", col("s", "VARCHAR")), `_utf8mb4 X'${Buffer.from("it's \\ 😀").toString("hex")}'`);
    // Anything unexpected for its type falls back to the hex string, never into the SQL as it is.
    assert.equal(mysqlLiteral("1; DROP TABLE x", col("id", "BIGINT")), `_utf8mb4 X'${Buffer.from("1; DROP TABLE x").toString("hex")}'`);
  });

  test("a composite cursor with look-back, spelled out; FLOAT widened, BLOB and BIT rewritten", () => {
    const schema: ResourceSchema = {
      label: "`shop`.`t`", address: ["shop", "t"],
      columns: [col("updated_at", "TIMESTAMP", "datetime(6)"), col("id", "BIGINT", "bigint(20)"), col("f", "FLOAT", "float"), col("b", "BLOB", "blob"), col("bits", "BIGINT", "bit(5)")],
    };
    const slice = cursorSlice(schema, { columns: ["updated_at", "id"], lookBackSeconds: 1.5 }, { columns: ["updated_at", "id"], values: ["2024-01-01 00:00:00", "7"] });
    const { sql } = buildSelect({ schema, slice, chunkRows: 10, workDir: "/tmp" }, MYSQL_SQL);
    assert.equal(sql,
      "SELECT `updated_at`, `id`, (`f` + 0e0), HEX(`b`), CAST(`bits` AS UNSIGNED) FROM `shop`.`t` WHERE `updated_at` IS NOT NULL AND `id` IS NOT NULL AND " +
      "`updated_at` >= (CAST('2024-01-01 00:00:00' AS DATETIME(6)) - INTERVAL 1500000 MICROSECOND) AND " +
      "(`updated_at` > (CAST('2024-01-01 00:00:00' AS DATETIME(6)) - INTERVAL 1500000 MICROSECOND) OR (`updated_at` = (CAST('2024-01-01 00:00:00' AS DATETIME(6)) - INTERVAL 1500000 MICROSECOND) AND `id` > 7)) " +
      "ORDER BY `updated_at`, `id`");
  });
});

describe("partition boundaries", () => {
  test("quantiles of a skewed sample: distinct, ascending, none at the minimum", () => {
    const sample = [...Array(95).fill("1"), "2", "3", "1000", "2000", "3000"];
    assert.deepEqual(quantilePoints(sample, 4), []);
    assert.deepEqual(quantilePoints(["1", "2", "3", "4", "5", "6", "7", "8"], 4), ["3", "5", "7"]);
    assert.deepEqual(quantilePoints([], 4), []);
  });

  test("steps: exact decimals and integers beyond 2^53, dates by durations", () => {
    assert.deepEqual(stepPoints(col("id", "DECIMAL(20,0)"), "18446744073709551610", "18446744073709551615", { step: 2 }), ["18446744073709551612", "18446744073709551614"]);
    assert.deepEqual(stepPoints(col("a", "DECIMAL(5,2)"), "-0.50", "0.30", { step: 0.25 }), ["-0.25", "0.00", "0.25"]);
    assert.deepEqual(stepPoints(col("d", "DATE"), "2024-01-01", "2024-01-20", { step: "7 days" }), ["2024-01-08", "2024-01-15"]);
    assert.throws(() => stepPoints(col("s", "VARCHAR"), "a", "z", { step: 1 }), /cannot be split by a step/);
    assert.throws(() => stepPoints(col("id", "BIGINT"), "0", "10000000", { step: 1 }), /more than 10,000 ranges/);
  });
});

describe("the connection string", () => {
  test("TLS verified by default away from loopback; never the password in the description", () => {
    const remote = parseTarget("mysql://app:p%40ss@db.example.com/shop", "mysql");
    assert.deepEqual(remote.options.ssl, { rejectUnauthorized: true });
    assert.equal(remote.options.password, "p@ss");
    assert.equal(remote.description, "mysql://app@db.example.com/shop");
    assert.equal(parseTarget("mariadb://root@127.0.0.1:3306/test", "mariadb").options.ssl, undefined);
    assert.equal(parseTarget("mysql://app@db.example.com/shop?ssl=false", "mysql").options.ssl, undefined);
    assert.deepEqual(parseTarget("mysql://root@localhost/test?ssl=true", "mysql").options.ssl, { rejectUnauthorized: true });
    assert.throws(() => parseTarget("postgres://x@y/z", "mysql"), /must start with mysql:\/\/ or mariadb:\/\//);
    assert.throws(() => parseTarget("host=x password=secret", "mysql"), (e: Error) => !e.message.includes("secret"));
  });
});
