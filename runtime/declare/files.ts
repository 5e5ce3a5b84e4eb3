// File drops: a folder (local, or in the lake's `landing` container) that files arrive in, and the
// file pattern a bronze stage loads from it. Plain data; the connector is runtime/sources/files/.

import type { Duration } from "./duration.ts";

/** How the files of a pattern are read. CSV, JSON lines (one object per line), Parquet, Excel (.xlsx). */
export type FileFormat = "csv" | "jsonl" | "parquet" | "xlsx";

export const FILE_FORMATS: readonly FileFormat[] = ["csv", "jsonl", "parquet", "xlsx"];

/** Where files are dropped: exactly one of `folder` and `landing`. */
export type FilesSourceArgs = (
  | {
      /**
       * A local folder (absolute, or relative to the working directory): a laptop, a test, a mounted share.
       * A deployed pipeline has no local folder; it reads `landing`.
       */
      folder: string;
      landing?: never;
    }
  | {
      /** A folder of the lake's `landing` container ("" for all of it). @example "shop" */
      landing: string;
      folder?: never;
    }
) & {
  /** Rows per committed chunk; a killed load resumes after the last one. @default 1_000_000 */
  chunkRows?: number;
};

export interface FilesSource {
  readonly kind: "files";
  readonly name: string;
  readonly folder?: string;
  readonly landing?: string;
  readonly chunkRows?: number;
}

/** How a CSV file is written. Every field is fixed (not guessed), so a malformed file is refused instead of misread. */
export interface CsvOptions {
  /** @default "," ("\t" for a .tsv pattern) */
  delimiter?: string;
  /** @default "\"" */
  quote?: string;
  /** @default the quote character (a doubled quote is a quote) */
  escape?: string;
  /** The first line names the columns. Without it they are `column1`, `column2`, …. @default true */
  header?: boolean;
  /** The text that stands for NULL (besides an empty field). @example "N/A" */
  nullString?: string;
  /** strftime format of dates when they are not ISO 8601. @example "%d/%m/%Y" */
  dateFormat?: string;
  /** strftime format of timestamps when they are not ISO 8601. @example "%d/%m/%Y %H:%M" */
  timestampFormat?: string;
}

/** What a bronze stage reads from a file drop. */
export interface FilesResource {
  readonly kind: "files";
  /** Files under the source's folder: `*` within a folder, `**` across folders. @example "orders/*.csv" */
  readonly pattern: string;
  /** Undefined when the pattern's extension does not say (the stage's check reports it). */
  readonly format?: FileFormat;
  /** `incremental`: each new file once, recorded in a ledger. `full`: every matching file each run, replacing the table. */
  readonly load: "incremental" | "full";
  readonly csv?: CsvOptions;
  /** The worksheet of an .xlsx file to read. @default the first */
  readonly worksheet?: string;
  /** Declared column types (DuckDB types), instead of inferring them: some columns or all. */
  readonly types?: Readonly<Record<string, string>>;
  /** A file is read once it has not changed for this long, so a file still being copied waits for the next run. */
  readonly settle?: Duration;
}

/** The options of `bronze.files`, besides what every bronze stage takes. */
export interface FilesResourceArgs {
  /** Files under the source's folder: `*` within a folder, `**` across folders. @example "orders/*.csv" */
  pattern: string;
  /** @default from the pattern's extension: .csv/.tsv, .jsonl/.ndjson, .parquet, .xlsx */
  format?: FileFormat;
  /**
   * `incremental` (the default): every run loads the files that arrived since the last one, each exactly
   * once. `full`: every run loads every matching file and replaces the table (a folder holding the current
   * state, such as one file rewritten daily); a row missing from the files is gone from the table.
   */
  load?: "incremental" | "full";
  csv?: CsvOptions;
  /** The worksheet of an .xlsx file to read. @default the first */
  worksheet?: string;
  /**
   * Column types (DuckDB types) instead of inferring them, for some columns or all.
   * @example { amount: "DECIMAL(12,2)", zip: "VARCHAR" }
   */
  types?: Readonly<Record<string, string>>;
  /** A file is read once it has not changed for this long. @default "30 seconds" for a folder, "0 seconds" for landing */
  settle?: Duration;
}

/** The format a pattern's extension names, if it names one. */
export function formatOfPattern(pattern: string): FileFormat | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(pattern)?.[1]?.toLowerCase();
  if (ext === "csv" || ext === "tsv" || ext === "txt") return "csv";
  if (ext === "jsonl" || ext === "ndjson" || ext === "json") return "jsonl";
  if (ext === "parquet") return "parquet";
  if (ext === "xlsx") return "xlsx";
  return undefined;
}

export function filesResource(args: FilesResourceArgs): FilesResource {
  return {
    kind: "files",
    pattern: args.pattern,
    format: args.format ?? formatOfPattern(args.pattern),
    load: args.load ?? "incremental",
    csv: args.csv,
    worksheet: args.worksheet,
    types: args.types,
    settle: args.settle,
  };
}

/** Problems a files stage's types cannot rule out, each `field: what is wrong`. */
export function filesProblems(resource: FilesResource): string[] {
  const problems: string[] = [];
  const { pattern, format } = resource;
  if (!pattern.trim()) problems.push(`pattern: is empty`);
  if (pattern.startsWith("/") || pattern.split("/").includes("..")) problems.push(`pattern: "${pattern}" must be inside the source's folder (no leading / or ..)`);
  if (pattern.split("/")[0] === "_rejected") problems.push(`pattern: "${pattern}" reads _rejected/, where refused files are moved`);
  if (!format) problems.push(`format: the pattern "${pattern}" does not say which; give format: ${FILE_FORMATS.join(", ")}`);
  else if (!FILE_FORMATS.includes(format)) problems.push(`format: "${format}" is not one of ${FILE_FORMATS.join(", ")}`);
  if (resource.load !== "incremental" && resource.load !== "full") problems.push(`load: "${resource.load}" is not incremental or full`);
  if (resource.csv && format !== "csv") problems.push(`csv: only for csv files (the format is ${format})`);
  if (resource.worksheet !== undefined && format !== "xlsx") problems.push(`worksheet: only for xlsx files (the format is ${format})`);
  for (const [name, type] of Object.entries(resource.types ?? {})) {
    if (typeof type !== "string" || !/^[A-Za-z][A-Za-z0-9 _(),]*(\[\])?$/.test(type.trim())) problems.push(`types.${name}: "${type}" is not a DuckDB type`);
  }
  const csv = resource.csv ?? {};
  for (const key of ["delimiter", "quote", "escape"] as const) {
    const value = csv[key];
    if (value !== undefined && value.length !== 1) problems.push(`csv.${key}: expected one character (got "${value}")`);
  }
  return problems;
}
