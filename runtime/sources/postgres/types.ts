// How PostgreSQL types map to DuckDB for bronze, and the two SQL expressions that move a value across:
// one PostgreSQL expression in the COPY query (the value's text in CSV) and one DuckDB expression that
// turns that text back into a typed value. Everything here is driven by the column's DuckDB type, so a
// schema stored by an earlier run extracts the same way as a fresh `describe`.

import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import type { SourceColumn } from "../source.ts";
import { castTimeText } from "../csv/time-text.ts";

/** A column as pg_catalog describes it (see catalog.ts). */
export interface CatalogColumn {
  readonly name: string;
  /** `format_type` of the column's own type: what the user declared (a domain or enum name included). */
  readonly sourceType: string;
  /** `format_type` of the underlying type: the domain's base type, otherwise the same as `sourceType`. */
  readonly baseType: string;
  /** pg_type.typtype of the underlying type: b base, e enum, r range, c composite, m multirange. */
  readonly typtype: string;
  /** pg_type.typtype of the array element when the underlying type is an array. */
  readonly elementTyptype?: string;
  /** Declared array dimensions (0 when not an array or not declared). */
  readonly dimensions: number;
  readonly nullable: boolean;
}

/** The widest DECIMAL DuckDB holds; wider PostgreSQL numerics stay exact as text. */
const MAX_DECIMAL_PRECISION = 38;

/** DuckDB type for a scalar PostgreSQL type as `format_type` spells it; VARCHAR when nothing faithful exists. */
export function scalarDuckType(formatType: string): string {
  const t = formatType.trim();
  const numeric = /^numeric\((\d+),(-?\d+)\)$/.exec(t);
  if (numeric) {
    const precision = Number(numeric[1]);
    const scale = Number(numeric[2]);
    // Negative scale and scale > precision (allowed since PostgreSQL 15) have no DECIMAL equivalent.
    return precision <= MAX_DECIMAL_PRECISION && scale >= 0 && scale <= precision ? `DECIMAL(${precision},${scale})` : "VARCHAR";
  }
  if (/^timestamp(\(\d+\))? without time zone$/.test(t)) return "TIMESTAMP";
  if (/^timestamp(\(\d+\))? with time zone$/.test(t)) return "TIMESTAMPTZ";
  if (/^time(\(\d+\))? without time zone$/.test(t)) return "TIME";
  // time with time zone and interval stay text: Parquet would drop timetz's offset and an interval's
  // microseconds and sign (its INTERVAL is unsigned months/days/milliseconds).
  return SCALARS[t] ?? "VARCHAR";
}

const SCALARS: Readonly<Record<string, string>> = {
  smallint: "SMALLINT",
  integer: "INTEGER",
  bigint: "BIGINT",
  real: "FLOAT",
  "double precision": "DOUBLE",
  boolean: "BOOLEAN",
  text: "VARCHAR",
  name: "VARCHAR",
  '"char"': "VARCHAR",
  date: "DATE",
  uuid: "UUID",
  json: "JSON",
  jsonb: "JSON",
  bytea: "BLOB",
  // Unconstrained numeric holds up to 131072 digits, NaN and ±Infinity: kept exact as its text.
  numeric: "VARCHAR",
};

/** The DuckDB type bronze stores a column as. */
export function duckTypeOf(column: CatalogColumn): string {
  if (column.typtype === "e") return "VARCHAR";
  const base = column.baseType;
  if (base.endsWith("[]")) {
    // Multi-dimensional arrays have no LIST-of-LIST shape known in advance: keep PostgreSQL's text.
    if (column.dimensions > 1) return "VARCHAR";
    if (column.elementTyptype === "e") return "VARCHAR[]";
    if (column.elementTyptype !== "b") return "VARCHAR";
    const element = scalarDuckType(base.slice(0, -2));
    // An array of a type we keep as text stays one text value: `{…}` is faithful, a list of texts adds nothing.
    return element === "VARCHAR" && !/^(text|character varying|character)\b/.test(base) ? "VARCHAR" : `${element}[]`;
  }
  if (column.typtype !== "b" && column.typtype !== "d") return "VARCHAR";
  return scalarDuckType(base);
}

/** Map a catalog column to the SourceColumn bronze records. */
export function toSourceColumn(column: CatalogColumn): SourceColumn {
  return { name: column.name, sourceType: column.sourceType, duckType: duckTypeOf(column), nullable: column.nullable };
}

/** An interval column (declared as such: a domain over interval keeps PostgreSQL's own text). */
function isInterval(column: SourceColumn): boolean {
  return /^interval\b/.test(column.sourceType) && !column.sourceType.endsWith("[]");
}

/** True when the COPY query selects the column unchanged, so its CSV field is PostgreSQL's own text. */
export function isSelectedAsIs(column: SourceColumn): boolean {
  return !column.asText && !column.duckType.endsWith("[]") && !isInterval(column);
}

/**
 * The PostgreSQL expression the COPY query selects for a column. Arrays travel as a JSON array of the
 * elements' text (so DuckDB casts each element exactly as it casts a scalar); intervals as text of their
 * three fields, `-14 months 3 days -14706789000 microseconds`, which `CAST(… AS INTERVAL)` in DuckDB
 * reads back exactly (PostgreSQL's own form with mixed signs it does not); everything else as itself.
 */
export function pgSelectExpression(column: SourceColumn): string {
  const col = quoteIdent(column.name);
  if (column.asText) return `${col}::text`;
  if (column.duckType.endsWith("[]")) return `to_json(${col}::text[])`;
  if (isInterval(column)) {
    // Infinite intervals (PostgreSQL 17) have no DuckDB equivalent: NULL. isfinite() exists on every version.
    const part = (field: string) => `(extract(${field} from ${col}))::bigint`;
    return `CASE WHEN isfinite(${col}) THEN ` +
      `(${part("year")} * 12 + ${part("month")})::text || ' months ' || ${part("day")}::text || ' days ' || ` +
      `(${part("hour")} * 3600000000 + ${part("minute")} * 60000000 + ${part("microseconds")})::text || ' microseconds' END`;
  }
  return col;
}

/**
 * DuckDB expression turning `text` (a VARCHAR holding the PostgreSQL CSV text of a value) into `duckType`.
 * Session settings make that text canonical: DateStyle ISO, TimeZone UTC, bytea_output hex.
 */
export function duckConversion(text: string, duckType: string, column?: SourceColumn): string {
  if (duckType.endsWith("[]")) {
    const element = duckType.slice(0, -2);
    const strings = `CAST(CAST(${text} AS JSON) AS VARCHAR[])`;
    const list = element === "VARCHAR" ? strings : `list_transform(${strings}, lambda e: ${duckConversion("e", element)})`;
    // A column declared int[] may hold {{1,2},{3,4}} (PostgreSQL does not enforce dimensions): stop with
    // one line naming the column and the fix, not DuckDB's cast error about a lambda variable.
    if (!column) return list;
    return `CASE WHEN starts_with(${text}, '[[') THEN error(${quoteLiteral(multiDimensional(column))}) ELSE ${list} END`;
  }
  const decimal = /^DECIMAL\(\d+,\d+\)$/.exec(duckType);
  // NaN and ±Infinity are legal in numeric(p,s) but not in a DECIMAL: they become NULL (see docs/extraction.md).
  if (decimal) return `CASE WHEN ${text} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE CAST(${text} AS ${duckType}) END`;
  switch (duckType) {
    case "VARCHAR":
      return text;
    case "BLOB":
      // bytea_output = hex: `\x0001ff`.
      return `unhex(substr(${text}, 3))`;
    case "DATE":
    case "TIMESTAMP":
    case "TIMESTAMPTZ":
      // PostgreSQL writes BC as a suffix (`0044-03-15 12:00:00 BC`), which DuckDB reads otherwise.
      return castTimeText(text, duckType);
    default:
      return `CAST(${text} AS ${duckType})`;
  }
}

/** The one line a multi-dimensional value in a one-dimensional array column stops the load with. */
export function multiDimensional(column: SourceColumn): string {
  return `column "${column.name}" (${column.sourceType}) holds a multi-dimensional array, which ${column.duckType} cannot store; ` +
    `store the column as text with columns: { ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(column.name) ? column.name : JSON.stringify(column.name)}: "text" }`;
}
