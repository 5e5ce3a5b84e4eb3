// Reduce a set of record pairs to agreement-pattern counts (one row per distinct comparison vector):
// the only data training moves from DuckDB to JavaScript, and its size is bounded by the model, not the data.

import type { DuckDBConnection } from "@duckdb/node-api";
import { gammaSql, sharedTerms } from "./comparisons.ts";
import type { Pattern } from "./em.ts";
import { col, type Model } from "./model.ts";
import { quoteIdent } from "./sql.ts";

/**
 * The pairs of `from` (aliases `l`, `r`) as rows with `l` and `r` structs of the columns comparisons read
 * (plus `extra` record columns), each comparison's shared similarity values, and `pass` columns of
 * `from`. Gamma CASEs then read `l.col` as before, and each similarity function runs once per pair.
 */
export function pairRows(model: Model, from: string, extra: readonly string[] = [], pass: readonly string[] = []): {
  sql: string;
  gammas: string[];
} {
  const fields = [
    ...new Set([
      ...model.comparisons.flatMap((c) => c.columns),
      ...model.comparisons.filter((c) => c.spec.termFrequency).map((c) => col.tf(c.name)),
      ...model.comparisons.flatMap((c) => [c.dateColumn, c.aliasColumn].filter((x): x is string => x !== undefined)),
      ...extra,
    ]),
  ];
  const struct = (alias: string) =>
    `{${fields.map((f) => `${quoteIdent(f)}: ${alias}.${quoteIdent(f)}`).join(", ")}} AS ${alias}`;
  const terms = model.comparisons.map((c, i) => sharedTerms(c, i));
  const termCols = terms.flat().map((t) => `${t.sql} AS ${quoteIdent(t.alias)}`);
  const gammas = model.comparisons.map((c, i) => gammaSql(c, new Map(terms[i].map((t) => [t.fn, t.alias]))));
  const sql = `(SELECT ${[...pass, struct("l"), struct("r"), ...termCols].join(", ")} FROM ${from})`;
  return { sql, gammas };
}

/**
 * Pattern counts over the pairs of `from` (a FROM clause with aliases `l` and `r`). `flags` are extra
 * boolean expressions over the pair, carried per pattern, reading the record columns `flagColumns`.
 */
export async function patternCounts(
  con: DuckDBConnection,
  model: Model,
  from: string,
  flags: readonly string[] = [],
  flagColumns: readonly string[] = [],
): Promise<Pattern[]> {
  const rows = pairRows(model, from, flagColumns);
  const gammas = rows.gammas.map((g, i) => `${g} AS g${i}`);
  const flagCols = flags.map((f, i) => `coalesce(${f}, FALSE) AS f${i}`);
  const groupCols = [...gammas.map((_, i) => `g${i}`), ...flagCols.map((_, i) => `f${i}`)];
  const reader = await con.runAndReadAll(`
    SELECT ${groupCols.join(", ")}, count(*) AS n
    FROM (SELECT ${[...gammas, ...flagCols].join(", ")} FROM ${rows.sql})
    GROUP BY ALL`);
  const correlated = model.comparisons.some((c) => c.given.length > 0);
  return reader.getRowObjectsJS().map((row) => {
    const gammas = model.comparisons.map((_, i) => Number(row[`g${i}`]));
    return {
      gammas,
      flags: flags.map((_, i) => row[`f${i}`] === true),
      count: Number(row.n),
      ...(correlated ? { given: givenFlags(model, gammas) } : {}),
    };
  });
}

/** Per comparison: does its `correlatedWith` condition hold (all of them at level 0, exact)? */
export function givenFlags(model: Model, gammas: readonly number[]): boolean[] {
  return model.comparisons.map((c) => c.given.length > 0 && c.given.every((g) => gammas[g] === 0));
}
