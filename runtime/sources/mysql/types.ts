// How MySQL and MariaDB types map to DuckDB for bronze, and the two expressions that move a value across:
// the MySQL expression the SELECT reads (a value's exact text over the text protocol) and the DuckDB
// expression turning that text back into the typed value. Driven by the column's DuckDB type and source
// type, so a schema stored by an earlier run extracts the same way as a fresh `discover`.
// The map, and why each entry is what it is: README ("MySQL and MariaDB"), docs/sources.md.

import type { SourceColumn } from "../source.ts";
import { quoteMysqlIdent } from "./identifiers.ts";

/** A column as information_schema.COLUMNS describes it (see catalog.ts). */
export interface MysqlCatalogColumn {
  readonly name: string;
  /** DATA_TYPE: the bare type name. @example "bigint", "decimal", "uuid" */
  readonly dataType: string;
  /** COLUMN_TYPE: the full declaration. @example "bigint(20) unsigned", "decimal(65,30)", "enum('a','b')" */
  readonly columnType: string;
  readonly nullable: boolean;
  /** MariaDB's JSON is LONGTEXT with a `json_valid(col)` check constraint. */
  readonly json: boolean;
}

/** The widest DECIMAL DuckDB holds; wider MySQL decimals (up to 65 digits) stay exact as text. */
const MAX_DECIMAL_PRECISION = 38;

const SIGNED: Readonly<Record<string, string>> = { tinyint: "TINYINT", smallint: "SMALLINT", mediumint: "INTEGER", int: "INTEGER", integer: "INTEGER", bigint: "BIGINT" };
// Unsigned integers widen to the next signed type (Parquet readers other than DuckDB handle unsigned
// logical types poorly); BIGINT UNSIGNED reaches 2^64 - 1, so DECIMAL(20,0). Not HUGEINT or UBIGINT:
// DuckDB writes HUGEINT to Parquet as DOUBLE, which would round ids above 2^53.
const UNSIGNED: Readonly<Record<string, string>> = { tinyint: "SMALLINT", smallint: "INTEGER", mediumint: "INTEGER", int: "BIGINT", integer: "BIGINT", bigint: "DECIMAL(20,0)" };

const SCALARS: Readonly<Record<string, string>> = {
  float: "FLOAT",
  double: "DOUBLE",
  real: "DOUBLE",
  date: "DATE",
  datetime: "TIMESTAMP",
  // TIMESTAMP is an instant (stored in UTC, shown in the session time zone, which Mallard sets to +00:00).
  timestamp: "TIMESTAMPTZ",
  year: "SMALLINT",
  char: "VARCHAR",
  varchar: "VARCHAR",
  tinytext: "VARCHAR",
  text: "VARCHAR",
  mediumtext: "VARCHAR",
  longtext: "VARCHAR",
  // ENUM and SET keep their text (a SET as its comma-separated members, as MySQL writes it).
  enum: "VARCHAR",
  set: "VARCHAR",
  json: "JSON",
  binary: "BLOB",
  varbinary: "BLOB",
  tinyblob: "BLOB",
  blob: "BLOB",
  mediumblob: "BLOB",
  longblob: "BLOB",
  uuid: "UUID",
  // INET4/INET6 as their text: DuckDB's INET is an extension type Parquet cannot hold.
  inet4: "VARCHAR",
  inet6: "VARCHAR",
  // TIME spans -838:59:59.999999 to 838:59:59.999999: DuckDB's TIME holds one day, and Parquet's INTERVAL
  // drops the sign and the microseconds, so MySQL's own text is kept (`-838:59:59.500000`, `25:00:00`).
  time: "VARCHAR",
};

const GEOMETRY = new Set(["geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection"]);

/** The DuckDB type bronze stores a column as. */
export function duckTypeOf(column: MysqlCatalogColumn): string {
  const type = column.dataType.toLowerCase();
  const full = column.columnType.toLowerCase();
  if (column.json) return "JSON";
  if (type in SIGNED) return (/\bunsigned\b/.test(full) ? UNSIGNED : SIGNED)[type];
  if (type === "decimal" || type === "numeric") {
    const m = /^(?:decimal|numeric)\((\d+)(?:,(\d+))?\)/.exec(full);
    const precision = m ? Number(m[1]) : 10;
    const scale = m?.[2] ? Number(m[2]) : 0;
    return precision <= MAX_DECIMAL_PRECISION ? `DECIMAL(${precision},${scale})` : "VARCHAR";
  }
  if (type === "bit") {
    const bits = Number(/^bit\((\d+)\)/.exec(full)?.[1] ?? 1);
    // BIT(1) is a flag; wider BIT(n) is a number of n bits (BIT(64) needs 20 digits).
    return bits === 1 ? "BOOLEAN" : bits <= 63 ? "BIGINT" : "DECIMAL(20,0)";
  }
  // Well-known binary (WKB), as other engines read it.
  if (GEOMETRY.has(type)) return "BLOB";
  return SCALARS[type] ?? "VARCHAR";
}

/** Map a catalog column to the SourceColumn bronze records. */
export function toSourceColumn(column: MysqlCatalogColumn): SourceColumn {
  return { name: column.name, sourceType: column.json ? "json" : column.columnType, duckType: duckTypeOf(column), nullable: column.nullable };
}

const bareType = (column: SourceColumn) => column.sourceType.toLowerCase().replace(/[\s(].*$/, "");

/**
 * The MySQL expression the SELECT reads for a column. Most columns are read as they are: the text
 * protocol sends each value's exact text. Rewritten: binary values as hex (the VARCHAR batches in between hold
 * UTF-8), BIT as its number, FLOAT widened to DOUBLE (MySQL prints a FLOAT with 6 significant digits,
 * a DOUBLE with as many as it takes to round-trip), geometries as WKB.
 */
export function mysqlSelectExpression(column: SourceColumn): string {
  const col = quoteMysqlIdent(column.name);
  const type = bareType(column);
  if (column.asText) return type === "bit" ? `CAST(${col} AS UNSIGNED)` : column.duckType === "BLOB" || isBinary(column) ? `HEX(${col})` : col;
  if (GEOMETRY.has(type)) return `HEX(ST_AsBinary(${col}))`;
  if (column.duckType === "BLOB") return `HEX(${col})`;
  if (type === "bit") return `CAST(${col} AS UNSIGNED)`;
  if (type === "float") return `(${col} + 0e0)`;
  return col;
}

function isBinary(column: SourceColumn): boolean {
  return /^(binary|varbinary|tinyblob|blob|mediumblob|longblob)\b/i.test(column.sourceType);
}

/** Whether a column is a date or a datetime whose value may be a zero date (`0000-00-00`, `2024-00-15`). */
export function mayHoldZeroDate(column: SourceColumn): boolean {
  return !column.asText && (column.duckType === "DATE" || column.duckType === "TIMESTAMP" || column.duckType === "TIMESTAMPTZ");
}

/**
 * DuckDB expression turning `text` (a VARCHAR holding MySQL's text of a value, as selected above) into
 * `duckType`. Dates with a zero month or day have no DuckDB value: NULL, counted in the run record.
 */
export function duckConversion(text: string, duckType: string): string {
  switch (duckType) {
    case "VARCHAR":
      return text;
    case "BLOB":
      return `unhex(${text})`;
    case "BOOLEAN":
      return `(${text} <> '0')`;
    case "DATE":
    case "TIMESTAMP":
    case "TIMESTAMPTZ": {
      // The session time zone is +00:00, so a TIMESTAMP's text is UTC: say so, whatever DuckDB's zone.
      const value = duckType === "TIMESTAMPTZ" ? `${text} || '+00'` : text;
      return `CASE WHEN substr(${text}, 6, 2) = '00' OR substr(${text}, 9, 2) = '00' THEN NULL ELSE CAST(${value} AS ${duckType}) END`;
    }
    default:
      return `CAST(${text} AS ${duckType})`;
  }
}

/** Why a column cannot be a MySQL cursor (its order in MySQL is not the order of what bronze stores), or undefined. */
export function refuseCursor(column: SourceColumn): string | undefined {
  const type = bareType(column);
  // ENUM sorts by member number, INET6 and BIT by bytes, TIME's text is not its order; UUID's order in
  // MariaDB is not its text's order either.
  if (["enum", "set", "time", "inet4", "inet6", "bit", "uuid"].includes(type) || column.asText) return `has type ${column.sourceType}`;
  return undefined;
}
