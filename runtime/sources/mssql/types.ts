// SQL Server and Azure SQL types → DuckDB, and the T-SQL that reads each column as exact text. Every value
// crosses the wire as text the server made (never a JS number, Date or Buffer), so DECIMAL(38) keeps its
// digits, DATETIMEOFFSET its instant, and UNIQUEIDENTIFIER its canonical form (the server's text, not its
// mixed-endian bytes). The csv pipeline parses the text into the DuckDB type.

import { quoteIdent } from "../../engine/sql.ts";
import type { SourceColumn } from "../source.ts";
import { quoteMssqlIdent } from "./identifiers.ts";

/** A column as sys.columns / sys.types describe it. */
export interface MssqlColumnInfo {
  readonly name: string;
  /** sys.types name of the base type: `decimal`, `datetime2`, `nvarchar`, `timestamp` (rowversion), … */
  readonly type: string;
  /** sys.columns.max_length: -1 for (MAX). */
  readonly maxLength: number;
  readonly precision: number;
  readonly scale: number;
  readonly nullable: boolean;
}

/** The source type as SQL Server spells it in DDL, for the run record and messages. */
export function mssqlTypeName(c: MssqlColumnInfo): string {
  const t = c.type.toLowerCase();
  if (t === "decimal" || t === "numeric") return `${t}(${c.precision},${c.scale})`;
  if (t === "datetime2" || t === "datetimeoffset" || t === "time") return `${t}(${c.scale})`;
  if (/^(n?(var)?char|(var)?binary)$/.test(t)) {
    const units = t.startsWith("n") ? c.maxLength / 2 : c.maxLength;
    return `${t}(${c.maxLength === -1 ? "max" : units})`;
  }
  if (t === "timestamp") return "rowversion";
  return t;
}

/** The DuckDB type a column is stored as in bronze, or undefined when there is none. */
export function mssqlDuckType(c: MssqlColumnInfo): string | undefined {
  switch (c.type.toLowerCase()) {
    case "bit": return "BOOLEAN";
    case "tinyint": return "SMALLINT"; // 0–255: SQL Server's tinyint is unsigned
    case "smallint": return "SMALLINT";
    case "int": return "INTEGER";
    case "bigint": return "BIGINT";
    case "decimal":
    case "numeric": return `DECIMAL(${c.precision},${c.scale})`;
    case "money": return "DECIMAL(19,4)";
    case "smallmoney": return "DECIMAL(10,4)";
    case "float": return "DOUBLE";
    case "real": return "FLOAT";
    case "date": return "DATE";
    // DuckDB (and Delta) timestamps are microseconds: datetime2(7)'s 100 ns digit is dropped.
    case "datetime":
    case "smalldatetime":
    case "datetime2": return "TIMESTAMP";
    case "datetimeoffset": return "TIMESTAMPTZ";
    case "time": return "TIME";
    case "char":
    case "varchar":
    case "text":
    case "nchar":
    case "nvarchar":
    case "ntext":
    case "xml":
    case "sysname":
    case "sql_variant":
    case "hierarchyid":
    case "geography":
    case "geometry": return "VARCHAR";
    case "uniqueidentifier": return "UUID";
    case "binary":
    case "varbinary":
    case "image": return "BLOB";
    // rowversion: 8 bytes that only grow, read as the number they are (incremental by rowversion).
    case "timestamp":
    case "rowversion": return "BIGINT";
    default: return undefined;
  }
}

/** The T-SQL that gives a column's exact text (NULL stays NULL). */
export function mssqlSelectExpression(column: SourceColumn): string {
  const c = quoteMssqlIdent(column.name);
  const source = column.sourceType.toLowerCase();
  if (column.asText) return `CONVERT(nvarchar(max), ${c})`;
  if (source === "rowversion") return `CONVERT(varchar(20), CAST(CAST(${c} AS binary(8)) AS bigint))`;
  if (source === "bit") return `CONVERT(char(1), ${c})`;
  if (source === "money" || source === "smallmoney") return `CONVERT(varchar(40), CAST(${c} AS decimal(19,4)))`;
  if (source === "float" || source === "real") return `CONVERT(varchar(30), ${c}, 3)`; // style 3: round-trip digits
  if (source === "date") return `CONVERT(char(10), ${c}, 23)`;
  // The offset first: "datetimeoffset" also starts with "datetime". Its instant in UTC, then "+00".
  if (source.startsWith("datetimeoffset")) return `CONVERT(varchar(27), CAST(SWITCHOFFSET(${c}, '+00:00') AS datetime2(7)), 121) + '+00'`;
  if (/^(datetime2|datetime|smalldatetime)/.test(source)) return `CONVERT(varchar(27), CAST(${c} AS datetime2(7)), 121)`;
  if (source.startsWith("time")) return `CONVERT(varchar(16), ${c})`;
  if (source === "uniqueidentifier") return `CONVERT(char(36), ${c})`;
  if (/^(var)?binary|^image/.test(source)) return `CONVERT(varchar(max), CAST(${c} AS varbinary(max)), 2)`; // hex, no 0x
  if (/^(hierarchyid|geography|geometry)/.test(source)) return `${c}.ToString()`;
  if (source === "sql_variant" || source === "xml" || source === "text" || source === "ntext") return `CONVERT(nvarchar(max), ${c})`;
  if (/int$|^decimal|^numeric/.test(source)) return `CONVERT(varchar(50), ${c})`;
  return c; // char, varchar, nchar, nvarchar: text already
}

/** DuckDB's conversion of the text column `cN` to the column's type. */
export function mssqlDuckConversion(field: string, duckType: string): string {
  if (duckType === "BLOB") return `unhex(${field})`;
  if (duckType === "TIMESTAMP") return `CAST(${field} AS TIMESTAMP)`;
  return `CAST(${field} AS ${duckType})`;
}

/** The select list over the CSV fields: each converted and named as the source names it. */
export function mssqlSelectList(columns: readonly SourceColumn[]): string {
  return columns.map((c, i) => `${mssqlDuckConversion(`c${i}`, c.duckType)} AS ${quoteIdent(c.name)}`).join(", ");
}

/** Why a column cannot be a cursor here (beyond incremental.ts's rules). */
export function refuseCursor(column: SourceColumn): string | undefined {
  const t = column.sourceType.toLowerCase();
  // SQL Server orders uniqueidentifier by its last group first, not as its text sorts.
  if (t === "uniqueidentifier") return "SQL Server orders uniqueidentifier values differently from their text";
  if (t === "sql_variant" || /^(hierarchyid|geography|geometry|xml|text|ntext|image)/.test(t)) return `a ${t} column has no usable order`;
  return undefined;
}
