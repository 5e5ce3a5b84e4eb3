// The SQL an Oracle table is split with for parallel extraction: a sample of the key sorted by the server
// (whole blocks by SAMPLE BLOCK on a big table, single rows by SAMPLE when blocks returned too few, every
// row of a small table or a view), whose quantiles (sql/split.ts) give ranges of similar row counts however
// skewed the key; MIN and MAX for `step` ranges; the newest cursor a partitioned run stops at. Values are
// read as each column's text, the form cursors and range bounds take.

import type { ResourceSchema, SourceColumn } from "../source.ts";
import { quoteOracleIdent, quoteOracleQualified } from "./identifiers.ts";
import { oracleSelectExpression } from "./types.ts";

/** The optimizer's row count of a table (binds: owner, name); no row for a view, NULL for a table never analysed. */
export const TABLE_ROWS_SQL = "SELECT num_rows FROM all_tables WHERE owner = :1 AND table_name = :2";

export function countSql(schema: ResourceSchema): string {
  return `SELECT COUNT(*) FROM ${quoteOracleQualified(schema.address)}`;
}

/** The key's values in the server's order; `sample`: a percentage of blocks or of rows (undefined: every row). */
export function sampleSql(schema: ResourceSchema, column: SourceColumn, sample?: { percent: number; by: "block" | "row" }): string {
  const name = quoteOracleIdent(column.name);
  const clause = sample ? ` SAMPLE${sample.by === "block" ? " BLOCK" : ""} (${Math.min(99.999999, sample.percent).toFixed(6)})` : "";
  return `SELECT ${oracleSelectExpression(column)} FROM ${quoteOracleQualified(schema.address)}${clause} WHERE ${name} IS NOT NULL ORDER BY ${name}`;
}

/** MIN and MAX of the key under its own name, so its select expression gives their text (two rows). */
export function boundsSql(schema: ResourceSchema, column: SourceColumn): string {
  const name = quoteOracleIdent(column.name);
  const table = quoteOracleQualified(schema.address);
  const text = oracleSelectExpression(column);
  return `SELECT ${text} FROM (SELECT MIN(${name}) AS ${name} FROM ${table}) UNION ALL SELECT ${text} FROM (SELECT MAX(${name}) AS ${name} FROM ${table})`;
}

/** The greatest full cursor now. */
export function cursorMaxSql(schema: ResourceSchema, columns: readonly SourceColumn[]): string {
  const names = columns.map((c) => quoteOracleIdent(c.name));
  return `SELECT ${columns.map(oracleSelectExpression).join(", ")} FROM ${quoteOracleQualified(schema.address)} ` +
    `WHERE ${names.map((n) => `${n} IS NOT NULL`).join(" AND ")} ORDER BY ${names.map((n) => `${n} DESC`).join(", ")} FETCH FIRST 1 ROWS ONLY`;
}
