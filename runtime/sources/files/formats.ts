// How each file format is read by DuckDB: what columns a file holds (`sniff`) and the relation that reads
// it with given column types (`relation`). CSV is read with a fixed dialect (comma, double quote, a
// header line, unless declared otherwise), so a malformed file is refused rather than misread; types
// come from DuckDB's sniffer, except that integers beyond BIGINT, which it would store as DOUBLE, are
// kept exact (DECIMAL(38,0), or their text beyond 38 digits; not HUGEINT, which DuckDB writes to Parquet
// as DOUBLE). JSON objects and arrays nested in JSON lines are kept as JSON. Parquet columns keep their
// types. Excel goes through xlsx.ts.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { CsvOptions, FilesResource } from "../../declare/files.ts";
import { queryRows } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";

export interface FileColumn {
  readonly name: string;
  readonly type: string;
}

/** Values of one column a file could not store as they were. */
export interface ValueCount {
  readonly column: string;
  readonly count: number;
  readonly issue: string;
}

/** A DuckDB struct literal of column types: `{'id': 'BIGINT', 'name': 'VARCHAR'}`. */
function typesLiteral(columns: readonly FileColumn[]): string {
  return `{${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(", ")}}`;
}

/** read_csv's options for a resource: every dialect setting fixed, so the sniffer only guesses types. */
export function csvOptions(resource: FilesResource): string {
  const csv: CsvOptions = resource.csv ?? {};
  const tsv = /\.tsv$/i.test(resource.pattern);
  const quote = csv.quote ?? '"';
  const options = [
    `header = ${csv.header ?? true}`,
    "skip = 0",
    `delim = ${quoteLiteral(csv.delimiter ?? (tsv ? "\t" : ","))}`,
    `quote = ${quoteLiteral(quote)}`,
    `escape = ${quoteLiteral(csv.escape ?? quote)}`,
    "strict_mode = true",
    // A line starting with # is data, not a comment.
    "comment = ''",
    "null_padding = false",
    // A quoted empty field is an empty string; only an unquoted one (or nullString) is NULL.
    "allow_quoted_nulls = false",
  ];
  if (csv.nullString !== undefined) options.push(`nullstr = ${quoteLiteral(csv.nullString)}`);
  if (csv.dateFormat !== undefined) options.push(`dateformat = ${quoteLiteral(csv.dateFormat)}`);
  if (csv.timestampFormat !== undefined) options.push(`timestampformat = ${quoteLiteral(csv.timestampFormat)}`);
  return options.join(", ");
}

const NESTED = /^(STRUCT|MAP|UNION)\(|\[\d*\]$/;

/**
 * The columns `file` holds, with the resource's declared types where it declares them. CSV and JSON
 * columns DuckDB sniffs as DOUBLE are checked in full: whole numbers stay exact.
 */
export async function sniffFile(con: DuckDBConnection, file: string, resource: FilesResource): Promise<FileColumn[]> {
  const declared = resource.types ?? {};
  if (resource.format === "parquet") return describe(con, `read_parquet(${quoteLiteral(file)})`, declared);
  const hints = Object.entries(declared).map(([name, type]) => ({ name, type }));
  let columns: FileColumn[];
  if (resource.format === "csv") {
    const types = hints.length ? `, types = ${typesLiteral(hints)}` : "";
    columns = await describe(con, `read_csv(${quoteLiteral(file)}, ${csvOptions(resource)}${types})`, declared);
  } else {
    columns = (await describe(con, `read_json(${quoteLiteral(file)}, format = 'auto', records = true)`, declared))
      .map((c) => (declared[c.name] === undefined && (NESTED.test(c.type) || c.type === "JSON") ? { ...c, type: "JSON" } : c));
  }
  return exactIntegers(con, file, resource, columns);
}

async function describe(con: DuckDBConnection, relation: string, declared: Readonly<Record<string, string>>): Promise<FileColumn[]> {
  const rows = await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE SELECT * FROM ${relation}`);
  return rows.map((r) => ({ name: r.column_name, type: declared[r.column_name] ?? storable(r.column_type.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")) }));
}

/** A sniffed type as bronze can store it in Parquet without loss. */
function storable(type: string): string {
  return type === "HUGEINT" || type === "UHUGEINT" ? "DECIMAL(38,0)" : type;
}

/** DOUBLE columns whose every value is a whole number become DECIMAL(38,0) (≤ 38 digits) or VARCHAR (their text), not a rounded DOUBLE. */
async function exactIntegers(con: DuckDBConnection, file: string, resource: FilesResource, columns: FileColumn[]): Promise<FileColumn[]> {
  const doubles = columns.filter((c) => c.type === "DOUBLE" && resource.types?.[c.name] === undefined);
  if (!doubles.length) return columns;
  const asText = columns.map((c) => (c.type === "DOUBLE" ? { ...c, type: "VARCHAR" } : c));
  const checks = doubles.map((c, i) => {
    const v = `trim(${quoteIdent(c.name)})`;
    return `bool_and(${v} IS NULL OR regexp_full_match(${v}, '[+-]?[0-9]+')) AS w${i}, max(length(ltrim(${v}, '+-0'))) AS d${i}`;
  });
  const [row] = await queryRows<Record<string, boolean | number | null>>(con, `SELECT ${checks.join(", ")} FROM ${relation(file, resource, asText)}`);
  const exact = new Map(doubles.map((c, i) => [c.name, row[`w${i}`] === true ? (Number(row[`d${i}`] ?? 0) <= 38 ? "DECIMAL(38,0)" : "VARCHAR") : undefined]));
  return columns.map((c) => (exact.get(c.name) ? { ...c, type: exact.get(c.name)! } : c));
}

/** A relation reading `file` with these column types (every column it holds, by name). */
export function relation(file: string, resource: FilesResource, columns: readonly FileColumn[]): string {
  const path = quoteLiteral(file);
  switch (resource.format) {
    case "csv": {
      // Temporal columns keep the sniffer's own parse (it finds their format); every other type is fixed.
      const fixed = columns.filter((c) => !/^(DATE|TIME|TIMESTAMP|TIMESTAMPTZ)$/.test(c.type) || resource.types?.[c.name] !== undefined);
      return `read_csv(${path}, ${csvOptions(resource)}${fixed.length ? `, types = ${typesLiteral(fixed)}` : ""})`;
    }
    case "jsonl":
      return `read_json(${path}, format = 'auto', records = true, columns = ${typesLiteral(columns)})`;
    case "parquet":
      return `read_parquet(${path})`;
    case "xlsx":
      // The CSV xlsx.ts wrote: dialect and types known, nothing to guess.
      return `read_csv(${path}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', ` +
        `allow_quoted_nulls = false, strict_mode = true, columns = ${typesLiteral(columns)})`;
    default:
      throw new Error(`no reader for format ${resource.format}`);
  }
}
