// Reduce a set of record pairs to agreement-pattern counts (one row per distinct comparison vector):
// the only data training moves from DuckDB to JavaScript, and its size is bounded by the model, not the data.

import type { DuckDBConnection } from "@duckdb/node-api";
import { gammaSql } from "./comparisons.ts";
import type { Pattern } from "./em.ts";
import type { Model } from "./model.ts";

/**
 * Pattern counts over the pairs of `from` (a FROM clause with aliases `l` and `r`). `flags` are extra
 * boolean expressions over the pair, carried per pattern.
 */
export async function patternCounts(
  con: DuckDBConnection,
  model: Model,
  from: string,
  flags: readonly string[] = [],
): Promise<Pattern[]> {
  const gammas = model.comparisons.map((c, i) => `${gammaSql(c)} AS g${i}`);
  const flagCols = flags.map((f, i) => `coalesce(${f}, FALSE) AS f${i}`);
  const groupCols = [...gammas.map((_, i) => `g${i}`), ...flagCols.map((_, i) => `f${i}`)];
  const reader = await con.runAndReadAll(`
    SELECT ${groupCols.join(", ")}, count(*) AS n
    FROM (SELECT ${[...gammas, ...flagCols].join(", ")} FROM ${from})
    GROUP BY ALL`);
  return reader.getRowObjectsJS().map((row) => ({
    gammas: model.comparisons.map((_, i) => Number(row[`g${i}`])),
    flags: flags.map((_, i) => row[`f${i}`] === true),
    count: Number(row.n),
  }));
}
