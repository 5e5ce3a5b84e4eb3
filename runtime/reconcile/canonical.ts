// The reconciliation checksum, spelled identically in PostgreSQL, MySQL/MariaDB and DuckDB, so the source
// computes it where the data is (one row comes back) and DuckDB computes it over bronze, and equal tables
// give equal numbers. The form (docs/reconciliation.md):
//
//   row text  = canonical(c1) || U+001F || canonical(c2) || …      a NULL value is the text \N
//   row hash  = the first 15 hex digits of md5(row text, UTF-8) as an integer (60 bits)
//   checksum  = (count(*), sum(row hash))                           sums are exact (numeric, DECIMAL, HUGEINT)
//
// A sum, not a bit-xor: a row present twice does not cancel out, and a sum of 60-bit hashes never overflows
// the engines' exact sum types. Each value's canonical text is chosen by the column's bronze (DuckDB) type, so
// both sides spell it from the same type: integers and decimals in plain decimal notation (a DECIMAL(p,s)
// with its s decimals, which all three print the same way), timestamps as microseconds since 1970 (the
// instant for a zoned one; the nominal time for one without zone), dates as days since 1970, UUIDs in lower
// case with hyphens, booleans as 1/0, and text as the very text the extraction stores.
// Floats, binary, JSON, lists and times have no exact text all three agree on: such a column is refused.

import { quoteIdent, quoteLiteral } from "../engine/sql.ts";
import { StageError } from "../errors.ts";
import { mysqlString } from "../sources/mysql/query.ts";
import type { SourceColumn } from "../sources/source.ts";

/** How one engine spells the canonical text of a value, the row text and the row hash. */
export interface ChecksumDialect {
  readonly engine: string;
  /** The canonical text of a column's value (NULL for NULL): `expr` is the column (or the text the extraction selects for it). */
  value(expr: string, column: SourceColumn): string;
  /** The row text from canonical values, NULLs as `\N`. */
  row(values: readonly string[]): string;
  /** The 60-bit row hash of a row text. */
  hash(rowText: string): string;
  /** `count(*)` and the exact sum of hashes, both as text (0 for no rows). */
  aggregate(hash: string): { rows: string; sum: string };
}

/** The canonical-text class of a bronze type, or why it has none. */
export type ValueClass = "integer" | "decimal" | "text" | "uuid" | "boolean" | "date" | "timestamp";

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

export function valueClass(column: SourceColumn): ValueClass | { refused: string } {
  const type = column.duckType;
  if (column.asText || type === "VARCHAR") return "text";
  if (INTEGER.test(type)) return "integer";
  if (/^DECIMAL\(\d+,\d+\)$/.test(type)) return "decimal";
  if (type === "UUID") return "uuid";
  if (type === "BOOLEAN") return "boolean";
  if (type === "DATE") return "date";
  if (type === "TIMESTAMP" || type === "TIMESTAMPTZ") return "timestamp";
  return { refused: `column "${column.name}" is ${column.sourceType} (${type}), which has no exact text PostgreSQL, MySQL and DuckDB agree on; leave it out of reconcile.columns` };
}

/** The columns' classes, or a StageError naming the first column that has none. */
export function checkColumns(columns: readonly SourceColumn[]): ValueClass[] {
  return columns.map((c) => {
    const cls = valueClass(c);
    if (typeof cls === "object") throw new StageError(`reconcile: ${cls.refused}`);
    return cls;
  });
}

const NULL_TEXT = "\\N";
const SEPARATOR = "\x1f";

export const POSTGRES_CHECKSUM: ChecksumDialect = {
  engine: "PostgreSQL",
  value(expr, column) {
    switch (checkColumns([column])[0]) {
      case "integer": case "decimal": case "uuid": case "text": return `(${expr})::text`;
      case "boolean": return `CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END`;
      // date - date is whole days; PostgreSQL 14+ answers extract(epoch) as an exact numeric.
      case "date": return `CASE WHEN isfinite(${expr}) THEN (${expr} - DATE '1970-01-01')::text ELSE (${expr})::text END`;
      case "timestamp": return `CASE WHEN isfinite(${expr}) THEN (extract(epoch FROM ${expr}) * 1000000)::bigint::text ELSE (${expr})::text END`;
    }
  },
  row: (values) => values.map((v) => `coalesce(${v}, ${quoteLiteral(NULL_TEXT)})`).join(" || chr(31) || "),
  hash: (text) => `('x' || substr(md5(${text}), 1, 15))::bit(60)::bigint`,
  aggregate: (hash) => ({ rows: "count(*)::text", sum: `coalesce(sum(${hash}), 0)::text` }),
};

export const MYSQL_CHECKSUM: ChecksumDialect = {
  engine: "MySQL",
  value(expr, column) {
    switch (checkColumns([column])[0]) {
      case "integer": case "decimal": case "uuid": return `CAST(${expr} AS CHAR)`;
      // Whatever the column's character set, its text as UTF-8 bytes (what bronze holds).
      case "text": return `CONVERT(${expr} USING utf8mb4)`;
      case "boolean": return `CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END`;
      case "date": return `CAST(DATEDIFF(${expr}, '1970-01-01') AS CHAR)`;
      // A TIMESTAMP shows in the session's time zone, which Mallard sets to +00:00: the difference is the instant's.
      case "timestamp": return `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${expr}) AS CHAR)`;
    }
  },
  // Literals as hex bytes: no sql_mode reads a backslash in them differently.
  row: (values) => `CONCAT(${values.map((v) => `COALESCE(${v}, ${mysqlString(NULL_TEXT)})`).join(`, ${mysqlString(SEPARATOR)}, `)})`,
  hash: (text) => `CAST(CONV(SUBSTRING(MD5(${text}), 1, 15), 16, 10) AS UNSIGNED)`,
  aggregate: (hash) => ({ rows: "CAST(COUNT(*) AS CHAR)", sum: `CAST(COALESCE(SUM(${hash}), 0) AS CHAR)` }),
};

export const DUCKDB_CHECKSUM: ChecksumDialect = {
  engine: "DuckDB",
  value(expr, column) {
    switch (checkColumns([column])[0]) {
      case "integer": case "decimal": case "uuid": case "text": return `CAST(${expr} AS VARCHAR)`;
      case "boolean": return `CASE WHEN ${expr} THEN '1' WHEN NOT ${expr} THEN '0' END`;
      case "date": return `CASE WHEN isfinite(${expr}) THEN CAST(${expr} - DATE '1970-01-01' AS VARCHAR) ELSE CAST(${expr} AS VARCHAR) END`;
      case "timestamp": return `CASE WHEN isfinite(${expr}) THEN CAST(epoch_us(${expr}) AS VARCHAR) ELSE CAST(${expr} AS VARCHAR) END`;
    }
  },
  row: (values) => values.map((v) => `coalesce(${v}, ${quoteLiteral(NULL_TEXT)})`).join(" || chr(31) || "),
  hash: (text) => `CAST('0x' || substr(md5(${text}), 1, 15) AS BIGINT)`,
  aggregate: (hash) => ({ rows: "CAST(count(*) AS VARCHAR)", sum: `CAST(coalesce(sum(${hash}), 0) AS VARCHAR)` }),
};

/** The row-hash expression of `columns` in a dialect; `expr` gives each column's expression (default: the quoted column). */
export function rowHash(dialect: ChecksumDialect, columns: readonly SourceColumn[], expr: (column: SourceColumn) => string = (c) => quoteIdent(c.name)): string {
  checkColumns(columns);
  return dialect.hash(dialect.row(columns.map((c) => dialect.value(expr(c), c))));
}

/** A checksum as both sides report it. */
export interface Checksum {
  readonly rows: number;
  /** The exact sum of row hashes, as decimal text (it outgrows a double). */
  readonly sum: string;
}
