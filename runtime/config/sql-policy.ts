// What SQL a user writes may do: one SELECT over its declared inputs, calling only table functions that
// compute rows. Model SQL, check SQL and dedup expressions all pass through here at load time (on every
// path: see load-pipeline.ts), so a model that reads a file, a URL or a setting is refused before any task
// runs. The engine's sandbox (engine/sandbox.ts) refuses the same at run time should this be bypassed.

import type { DuckDBConnection } from "@duckdb/node-api";
import { tablesReadBy } from "./sql-tables.ts";

/**
 * Table functions user SQL may call. An allow-list, not a deny-list: DuckDB grows readers with every
 * release and extension (read_*, glob, parquet_scan, sniff_csv, query(), iceberg_scan, …), and a
 * deny-list misses the next one; these compute rows from their arguments and touch nothing else.
 */
export const SAFE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(["range", "generate_series", "unnest", "json_each", "json_tree"]);

export interface SqlSnippet {
  /** Where the SQL is, for the message: `sql`, `checks.no_negative`, `prepare.clean_name`. */
  readonly field: string;
  readonly sql: string;
  /** A whole query (a model, a `sql` check) or an expression (a row check, a dedup column). */
  readonly form: "query" | "expression";
}

/**
 * Problems with one snippet, each `<field>: …` (the caller puts the stage in front). `visible` are the
 * names the SQL may read as tables: the stage's input views (and `model` for a check).
 */
export async function refuseSql(con: DuckDBConnection, snippet: SqlSnippet, visible: ReadonlySet<string>, inputsHint: string): Promise<string[]> {
  // An expression is parsed inside a SELECT, as it runs: what it can reach is what a subquery in it can.
  const text = snippet.form === "query" ? snippet.sql : `SELECT (${snippet.sql}) AS v`;
  const parsed = await tablesReadBy(con, text);
  const at = snippet.field;
  if (parsed.error) {
    const statement = notSelect(snippet.sql);
    return statement
      ? [`${at}: ${statement} is refused: this SQL is one SELECT over its declared inputs`]
      : [`${at}: ${parsed.error.split("\n")[0]}`];
  }
  if (parsed.statements !== 1) {
    return [`${at}: ${parsed.statements} statements; ${snippet.form === "query" ? "a model or check is one SELECT" : "an expression cannot end a statement or start another"}`];
  }
  const problems: string[] = [];
  for (const fn of parsed.tableFunctions) {
    if (!SAFE_TABLE_FUNCTIONS.has(fn)) {
      problems.push(`${at}: ${fn}() is refused: this SQL reads only its declared inputs (files come in through a source; table functions allowed: ${[...SAFE_TABLE_FUNCTIONS].join(", ")})`);
    }
  }
  for (const table of parsed.tables) {
    if (visible.has(table)) continue;
    problems.push(/[./\\:]/.test(table)
      ? `${at}: reads "${table}", a file or URL, not an input (${inputsHint}); files come in through a source`
      : `${at}: reads "${table}", which is not an input (${inputsHint}); add it to from`);
  }
  return problems;
}

/** Statements DuckDB parses that are not a query: named in the message when a snippet holds one. */
const STATEMENTS = new Set([
  "ALTER", "ANALYZE", "ATTACH", "BEGIN", "CALL", "CHECKPOINT", "COMMIT", "COPY", "CREATE", "DEALLOCATE", "DELETE", "DESCRIBE", "DETACH",
  "DROP", "EXECUTE", "EXPLAIN", "EXPORT", "IMPORT", "INSERT", "INSTALL", "LOAD", "MERGE", "PIVOT", "PRAGMA", "PREPARE", "RESET", "ROLLBACK",
  "SET", "SHOW", "SUMMARIZE", "TRUNCATE", "UNPIVOT", "UPDATE", "USE", "VACUUM",
]);

/** The first statement that is not a query (COPY, ATTACH, SET, PRAGMA…), for the message. */
function notSelect(sql: string): string | undefined {
  const withoutComments = sql.replace(/--[^\n]*/g, " ").replace(/\/\*[\s\S]*?\*\//g, " ");
  for (const statement of withoutComments.split(";")) {
    const word = /^\s*([A-Za-z_]+)/.exec(statement)?.[1]?.toUpperCase();
    if (word && STATEMENTS.has(word)) return word;
  }
  return undefined;
}
