// Oracle types → DuckDB, the SQL that reads each column, and the DuckDB expression that types its text.
// Nothing passes through a JS number or Date: NUMBER arrives as the thin driver's exact decimal text, DATE
// and TIMESTAMPs as TO_CHAR text the query asks for (UTC instants for the zoned ones), BINARY_FLOAT and
// BINARY_DOUBLE as the shortest text that round-trips. The map, and why: README ("Oracle"), docs/sources.md.

import { quoteIdent } from "../../engine/sql.ts";
import { castTimeText } from "../csv/time-text.ts";
import type { SourceColumn } from "../source.ts";
import { quoteOracleIdent } from "./identifiers.ts";

/** A column as ALL_TAB_COLUMNS describes it. */
export interface OracleColumnInfo {
  readonly name: string;
  /** DATA_TYPE: `NUMBER`, `TIMESTAMP(9) WITH TIME ZONE`, `INTERVAL DAY(2) TO SECOND(6)`, `XMLTYPE`, a type's name. */
  readonly dataType: string;
  /** DATA_TYPE_OWNER: set for object types (`SYS` for XMLTYPE, `MDSYS` for SDO_GEOMETRY). */
  readonly dataTypeOwner?: string | null;
  readonly dataLength: number;
  readonly precision: number | null;
  readonly scale: number | null;
  /** CHAR_LENGTH: characters of a CHAR/VARCHAR2/NCHAR/NVARCHAR2. */
  readonly charLength: number;
  readonly nullable: boolean;
}

/** FLOAT(b) of at most this many bits holds at most 15 decimal digits, which a DOUBLE round-trips. */
const MAX_DOUBLE_FLOAT_BITS = 49;
/** CLOB characters / BLOB bytes read inline with the row; a longer LOB is read through its locator. */
export const INLINE_CLOB_CHARS = 1000;
export const INLINE_BLOB_BYTES = 2000;

/** The source type as Oracle spells it in DDL, for the run record and messages. */
export function oracleTypeName(c: OracleColumnInfo): string {
  const t = c.dataType.toUpperCase();
  if (t === "NUMBER") {
    if (c.precision === null && c.scale === null) return "NUMBER";
    return `NUMBER(${c.precision ?? "*"},${c.scale ?? 0})`;
  }
  if (t === "FLOAT") return `FLOAT(${c.precision ?? 126})`;
  if (/^(N?VARCHAR2|N?CHAR)$/.test(t)) return `${t}(${c.charLength})`;
  if (t === "RAW") return `RAW(${c.dataLength})`;
  return t;
}

/** The DuckDB type a column is stored as, or undefined when Mallard does not read it (object types, BFILE, VECTOR). */
export function oracleDuckType(c: OracleColumnInfo): string | undefined {
  const t = c.dataType.toUpperCase();
  if (t === "NUMBER") return numberType(c.precision, c.scale);
  if (t === "FLOAT") return (c.precision ?? 126) <= MAX_DOUBLE_FLOAT_BITS ? "DOUBLE" : "VARCHAR";
  if (t === "BINARY_FLOAT") return "FLOAT";
  if (t === "BINARY_DOUBLE") return "DOUBLE";
  // Oracle's DATE has a time of day, to the second.
  if (t === "DATE") return "TIMESTAMP";
  if (/^TIMESTAMP(\(\d\))?$/.test(t)) return "TIMESTAMP";
  if (/^TIMESTAMP(\(\d\))? WITH (LOCAL )?TIME ZONE$/.test(t)) return "TIMESTAMPTZ";
  // As text DuckDB's CAST(… AS INTERVAL) reads exactly; Parquet's INTERVAL has no sign or microseconds.
  if (/^INTERVAL (YEAR|DAY)/.test(t)) return "VARCHAR";
  if (/^(N?VARCHAR2|N?CHAR|CLOB|NCLOB|LONG|ROWID|UROWID)$/.test(t)) return "VARCHAR";
  if (t === "XMLTYPE") return "VARCHAR";
  if (t === "JSON") return "JSON";
  if (t === "BOOLEAN") return "BOOLEAN";
  if (/^(RAW|LONG RAW|BLOB)$/.test(t)) return "BLOB";
  return undefined;
}

/**
 * NUMBER(p,s): whole numbers as INTEGER / BIGINT / DECIMAL(p,0), fractions as DECIMAL(p,s); NUMBER(*,0)
 * (INTEGER in DDL) as DECIMAL(38,0). A bare NUMBER is a floating decimal of up to 40 digits at any scale:
 * no DECIMAL holds every value and a DOUBLE rounds ids above 2^53, so it is kept as its exact text.
 */
function numberType(precision: number | null, scale: number | null): string {
  if (precision === null && scale === null) return "VARCHAR";
  const p = precision ?? 38;
  const s = scale ?? 0;
  if (s < 0) {
    // NUMBER(5,-2): whole numbers rounded to hundreds, up to p - s digits.
    const digits = p - s;
    return digits <= 18 ? "BIGINT" : digits <= 38 ? `DECIMAL(${digits},0)` : "VARCHAR";
  }
  if (s === 0) return p <= 9 ? "INTEGER" : p <= 18 ? "BIGINT" : `DECIMAL(${p},0)`;
  // NUMBER(3,5) holds 0.00123: DuckDB's width must cover the scale.
  return `DECIMAL(${Math.max(p, s)},${s})`;
}

const upper = (column: SourceColumn) => column.sourceType.toUpperCase();
export const isClob = (column: SourceColumn) => /^(N?CLOB|XMLTYPE|JSON)$/.test(upper(column));
export const isBlob = (column: SourceColumn) => upper(column) === "BLOB";

/**
 * The select items a column is read with: one, or two for a LOB (its value inline when short, its
 * locator when long or empty), so short LOBs cost no round trip and a long one is read on its own.
 */
export function oracleSelectItems(column: SourceColumn): string[] {
  const c = quoteOracleIdent(column.name);
  const t = upper(column);
  if (isClob(column) || isBlob(column)) {
    const lob = t === "XMLTYPE" ? `XMLSERIALIZE(CONTENT ${c} AS CLOB)` : t === "JSON" ? `JSON_SERIALIZE(${c} RETURNING CLOB)` : c;
    const inline = isBlob(column) ? INLINE_BLOB_BYTES : INLINE_CLOB_CHARS;
    const length = `DBMS_LOB.GETLENGTH(${lob})`;
    return [
      `CASE WHEN ${length} BETWEEN 1 AND ${inline} THEN DBMS_LOB.SUBSTR(${lob}, ${inline}, 1) END`,
      `CASE WHEN ${length} > ${inline} OR ${length} = 0 THEN ${lob} END`,
    ];
  }
  if (t === "DATE") return [`${timeText(c, "YYYY-MM-DD HH24:MI:SS", "DATE '0001-01-01'")}`];
  const stamp = /^TIMESTAMP(?:\((\d)\))?( WITH (LOCAL )?TIME ZONE)?$/.exec(t);
  if (stamp) {
    const digits = Number(stamp[1] ?? 6) > 6 ? 9 : 6;
    const format = `YYYY-MM-DD HH24:MI:SS.FF${digits}`;
    if (!stamp[2]) return [timeText(c, format, "TIMESTAMP '0001-01-01 00:00:00'")];
    // The instant in UTC, then "+00"; WITH LOCAL TIME ZONE through the session's zone (set to UTC).
    const utc = stamp[3] ? `SYS_EXTRACT_UTC(CAST(${c} AS TIMESTAMP WITH TIME ZONE))` : `SYS_EXTRACT_UTC(${c})`;
    // (Oracle's || ignores a NULL operand: without the CASE a NULL would read as "+00".)
    return [`CASE WHEN ${c} IS NOT NULL THEN TO_CHAR(${utc}, '${format}') || '+00' || CASE WHEN ${utc} < TIMESTAMP '0001-01-01 00:00:00' THEN ' BC' END END`];
  }
  return [c];
}

/** The text of a date or timestamp; a BC value gets PostgreSQL's ` BC` suffix (the form cursors and DuckDB's conversion take). */
function timeText(c: string, format: string, firstAd: string): string {
  return `TO_CHAR(${c}, '${format}') || CASE WHEN ${c} < ${firstAd} THEN ' BC' END`;
}

/** A column's select items as one select-list entry (for queries that read a column alone). */
export function oracleSelectExpression(column: SourceColumn): string {
  return oracleSelectItems(column).join(", ");
}

/** Whether a column's CSV text never needs quoting (numbers, dates, hex): written bare unless empty. */
export function isPlainText(column: SourceColumn): boolean {
  if (column.asText) return false;
  return /^(SMALLINT|INTEGER|BIGINT|DECIMAL\(\d+,\d+\)|FLOAT|DOUBLE|BOOLEAN|TIMESTAMP|TIMESTAMPTZ|BLOB)$/.test(column.duckType);
}

/** DuckDB's conversion of the text field `text` to the column's type. */
export function oracleDuckConversion(text: string, duckType: string): string {
  switch (duckType) {
    case "VARCHAR":
      return text;
    case "BLOB":
      return `unhex(${text})`;
    case "TIMESTAMP":
    case "TIMESTAMPTZ":
      return castTimeText(text, duckType);
    default:
      return `CAST(${text} AS ${duckType})`;
  }
}

/** The select list over the CSV fields `c0…`: each converted and named as the source names it. */
export function oracleSelectList(columns: readonly SourceColumn[]): string {
  return columns.map((c, i) => `${oracleDuckConversion(`c${i}`, c.duckType)} AS ${quoteIdent(c.name)}`).join(", ");
}

/** Why a column cannot be a cursor here (beyond incremental.ts's rules), or undefined. */
export function refuseCursor(column: SourceColumn): string | undefined {
  const t = upper(column);
  if (/^INTERVAL /.test(t)) return "its text does not sort as its value";
  if (/^(N?CLOB|BLOB|LONG|LONG RAW|XMLTYPE|JSON|ROWID|UROWID)$/.test(t)) return `a ${t} column has no usable order`;
  return undefined;
}
