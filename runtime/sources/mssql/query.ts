// How T-SQL spells a read: [bracketed] identifiers, N'…' literals (a Unicode string compares exactly with
// nvarchar and varchar alike), numbers as exact literals, a rowversion cursor as its 8 bytes, look-back
// with DATEADD, and composite cursors spelled out (T-SQL has no row comparison).

import type { SourceColumn } from "../source.ts";
import type { SqlSource } from "../sql/select.ts";
import { quoteMssqlIdent, quoteMssqlQualified } from "./identifiers.ts";
import { mssqlSelectExpression } from "./types.ts";

const EXACT_NUMBER = /^[+-]?\d+(\.\d+)?$/;
const FLOAT_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function mssqlString(value: string): string {
  return `N'${value.replace(/'/g, "''")}'`;
}

/** A cursor or range value as a literal of its column's type. */
export function mssqlLiteral(value: string, column: SourceColumn): string {
  const source = column.sourceType.toLowerCase();
  if (source === "rowversion" && /^\d+$/.test(value)) return `CAST(CAST(${value} AS bigint) AS binary(8))`;
  const type = column.duckType;
  if ((/INT$/.test(type) || type.startsWith("DECIMAL")) && EXACT_NUMBER.test(value)) return value;
  if ((type === "DOUBLE" || type === "FLOAT") && FLOAT_NUMBER.test(value)) return `CAST(${mssqlString(value)} AS float)`;
  if (type === "BOOLEAN" && /^(0|1|true|false)$/i.test(value)) return /^(1|true)$/i.test(value) ? "1" : "0";
  if (type === "DATE") return `CAST(${mssqlString(value)} AS date)`;
  if (type === "TIMESTAMP") return `CAST(${mssqlString(value)} AS datetime2(7))`;
  if (type === "TIMESTAMPTZ") return `CAST(${mssqlString(value.replace(/\+00$/, "+00:00"))} AS datetimeoffset(7))`;
  return mssqlString(value);
}

export const MSSQL_SQL: SqlSource = {
  ident: quoteMssqlIdent,
  literal: mssqlLiteral,
  minusSeconds: (literal, column, seconds) =>
    column.duckType === "DATE"
      ? `DATEADD(day, -${Math.ceil(seconds / 86_400)}, ${literal})`
      : `DATEADD(microsecond, -${Math.round((seconds % 1) * 1e6)}, DATEADD(second, -${Math.floor(seconds)}, ${literal}))`,
  rowComparison: false,
  table: quoteMssqlQualified,
  selectExpression: mssqlSelectExpression,
};
