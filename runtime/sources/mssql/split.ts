// The SQL a SQL Server table is split with for parallel extraction: a sample of the key (whole pages by
// TABLESAMPLE on a big table, every row of a small one or a view) sorted by the server, whose quantiles
// (sql/split.ts) give ranges of similar row counts however skewed the key; MIN and MAX for `step`
// ranges; the newest cursor a partitioned run stops at. Values are read as each column's exact text.

import type { ResourceSchema, SourceColumn } from "../source.ts";
import { quoteMssqlIdent, quoteMssqlQualified } from "./identifiers.ts";
import { mssqlString } from "./query.ts";
import { mssqlSelectExpression } from "./types.ts";

/** Rows in the table by its partition statistics (0 for a view: it is read whole). */
export function rowCountSql(address: readonly string[]): string {
  return `SELECT COALESCE(SUM(p.rows), 0) AS rows FROM sys.partitions p WHERE p.object_id = OBJECT_ID(${mssqlString(quoteMssqlQualified(address))}) AND p.index_id IN (0, 1)`;
}

/** The key's values, sorted by the server; `percent` samples whole pages (undefined: every row). */
export function sampleSql(schema: ResourceSchema, column: SourceColumn, percent?: number): string {
  const name = quoteMssqlIdent(column.name);
  const sample = percent === undefined ? "" : ` TABLESAMPLE SYSTEM (${percent.toFixed(6)} PERCENT)`;
  return `SELECT ${mssqlSelectExpression(column)} FROM ${quoteMssqlQualified(schema.address)}${sample} WHERE ${name} IS NOT NULL ORDER BY ${name}`;
}

/** MIN and MAX of the key under its own name, so its select expression gives their text (two rows). */
export function boundsSql(schema: ResourceSchema, column: SourceColumn): string {
  const name = quoteMssqlIdent(column.name);
  const table = quoteMssqlQualified(schema.address);
  const text = mssqlSelectExpression(column);
  return `SELECT ${text} FROM (SELECT MIN(${name}) AS ${name} FROM ${table}) AS lo UNION ALL SELECT ${text} FROM (SELECT MAX(${name}) AS ${name} FROM ${table}) AS hi`;
}

/** The greatest full cursor now. */
export function cursorMaxSql(schema: ResourceSchema, columns: readonly SourceColumn[]): string {
  const names = columns.map((c) => quoteMssqlIdent(c.name));
  return `SELECT TOP 1 ${columns.map(mssqlSelectExpression).join(", ")} FROM ${quoteMssqlQualified(schema.address)} ` +
    `WHERE ${names.map((n) => `${n} IS NOT NULL`).join(" AND ")} ORDER BY ${names.map((n) => `${n} DESC`).join(", ")}`;
}
