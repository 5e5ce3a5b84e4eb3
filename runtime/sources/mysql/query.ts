// How MySQL spells a read: backquoted identifiers, literals that compare exactly with their column (an
// integer never compared as a double, strings as hex so no sql_mode can change their meaning), look-back
// as interval arithmetic, and composite cursors spelled out (MySQL's planner does not turn a row
// comparison into an index range; `a >= x AND (a > x OR …)` it does).

import type { SourceColumn } from "../source.ts";
import type { SqlSource } from "../sql/select.ts";
import { quoteMysqlIdent, quoteMysqlQualified } from "./identifiers.ts";
import { mysqlSelectExpression } from "./types.ts";

/** A string literal that no sql_mode reads differently (backslashes, ANSI_QUOTES): its UTF-8 bytes in hex. */
export function mysqlString(value: string): string {
  return `_utf8mb4 X'${Buffer.from(value, "utf8").toString("hex")}'`;
}

const EXACT_NUMBER = /^[+-]?\d+(\.\d+)?$/;
const FLOAT_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TEMPORAL = /^[0-9][0-9 :.\-]*$/;

/** A cursor or range value as a literal of its column's type. */
export function mysqlLiteral(value: string, column: SourceColumn): string {
  const type = column.duckType;
  // Integers and decimals as exact-value literals: a quoted number compared with an integer column is compared as a double.
  if (/INT$|^DECIMAL/.test(type) && EXACT_NUMBER.test(value)) return value;
  if ((type === "FLOAT" || type === "DOUBLE") && FLOAT_NUMBER.test(value)) return /[eE]/.test(value) ? value : `${value}e0`;
  // Dates and times as plain quoted text: MySQL converts a constant compared with a temporal column to its type.
  if ((type === "DATE" || type === "TIMESTAMP" || type === "TIMESTAMPTZ") && TEMPORAL.test(value)) return `'${value}'`;
  return mysqlString(value);
}

export const MYSQL_SQL: SqlSource = {
  ident: quoteMysqlIdent,
  literal: mysqlLiteral,
  minusSeconds: (literal, column, seconds) =>
    `(CAST(${literal} AS ${column.duckType === "DATE" ? "DATE" : "DATETIME(6)"}) - INTERVAL ${Math.round(seconds * 1e6)} MICROSECOND)`,
  rowComparison: false,
  table: quoteMysqlQualified,
  selectExpression: mysqlSelectExpression,
};
