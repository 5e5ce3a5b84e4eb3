// Learned aliases: value pairs the data itself shows to be one entity's (William / Bill, Henry / Harry).
// A first model, trained with the `aliases` levels empty, scores the candidate pairs; a pair of distinct
// values that the other comparisons call a likely match often enough becomes an alias, and the model is
// trained again with the level in place. No labels, and no list of nicknames to maintain.

import type { DuckDBConnection } from "@duckdb/node-api";
import { pairTfSql } from "./comparisons.ts";
import type { Model, TableNames } from "./model.ts";
import type { DedupParams } from "./params.ts";
import { comparisonWeightSql, scoredWithRecords } from "./predict.ts";
import { quoteIdent, quoteLiteral } from "./sql.ts";

/** Expected likely-matching pairs a value pair needs to become an alias, unless the level says otherwise. */
const DEFAULT_MIN_PAIRS = 5;

/** Index of the comparison's `aliases` level, or -1. */
export function aliasLevel(model: Model, c: number): number {
  return model.comparisons[c].spec.levels.findIndex((l) => l.kind === "aliases");
}

/** Comparison index → its `aliases` level, for the comparisons that have one. */
export function aliasLevels(model: Model): Map<number, number> {
  return new Map(model.comparisons.flatMap((_, c) => (aliasLevel(model, c) >= 0 ? [[c, aliasLevel(model, c)] as [number, number]] : [])));
}

export function hasAliases(model: Model): boolean {
  return model.comparisons.some((_, c) => aliasLevel(model, c) >= 0);
}

/**
 * Learn each aliases level's value pairs from the scored candidate pairs (scored with the aliases empty):
 * the match probability without the comparison itself, summed per value pair, must reach `minPairs` and
 * half of the pairs holding those values.
 */
export async function learnAliases(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  params: DedupParams,
): Promise<Map<number, [string, string][]>> {
  const learned = new Map<number, [string, string][]>();
  for (const [i, c] of model.comparisons.entries()) {
    const k = aliasLevel(model, i);
    if (k < 0) continue;
    const level = c.spec.levels[k];
    const minPairs = level.kind === "aliases" ? level.minPairs ?? DEFAULT_MIN_PAIRS : DEFAULT_MIN_PAIRS;
    const v = quoteIdent(c.column);
    const reader = await con.runAndReadAll(`
      WITH p AS (
        SELECT CAST(l.${v} AS VARCHAR) AS a, CAST(r.${v} AS VARCHAR) AS b,
               1.0 / (1.0 + pow(2.0, -(s.match_weight - (${comparisonWeightSql(model, params, i, pairTfSql(c))})))) AS p
        FROM ${scoredWithRecords(names)}
        WHERE s.g${i} > ${k}
      )
      SELECT least(a, b) AS a, greatest(a, b) AS b FROM p WHERE a <> b
      GROUP BY ALL HAVING sum(p) >= ${minPairs} AND sum(p) >= 0.5 * count(*) ORDER BY a, b`);
    learned.set(i, reader.getRowObjectsJS().map((r) => [String(r.a), String(r.b)]));
  }
  return learned;
}

/**
 * Put learned (or saved) aliases in place: one hash per value pair (see `valuePairSql`) in the aliases
 * table, which the level looks up. The records table is not touched (a list of aliases per record was
 * copied into every pair that read it).
 */
export async function useAliases(con: DuckDBConnection, model: Model, names: TableNames, aliases: Map<number, [string, string][]>): Promise<void> {
  await con.run(`CREATE OR REPLACE TABLE ${names.aliases} (comparison INTEGER, pair UBIGINT)`);
  for (const [c, pairs] of aliases) {
    const rows = pairs.map(([a, b]) => `(${quoteLiteral(a)}, ${quoteLiteral(b)})`);
    for (let i = 0; i < rows.length; i += 5000) {
      await con.run(`INSERT INTO ${names.aliases}
        SELECT ${c}, hash(least(a, b), greatest(a, b)) FROM (VALUES ${rows.slice(i, i + 5000).join(", ")}) v(a, b)`);
    }
    model.comparisons[c].aliasSet = `(SELECT pair FROM ${names.aliases} WHERE comparison = ${c})`;
  }
}

/** Aliases saved with parameters, by comparison index. */
export function savedAliases(model: Model, params: DedupParams): Map<number, [string, string][]> {
  const out = new Map<number, [string, string][]>();
  model.comparisons.forEach((_, c) => {
    if (aliasLevel(model, c) >= 0) out.set(c, params.comparisons[c]?.aliases ?? []);
  });
  return out;
}

/** Parameters with the learned aliases recorded, so a later run reuses them with the parameters. */
export function withAliases(params: DedupParams, aliases: Map<number, [string, string][]>): DedupParams {
  return { ...params, comparisons: params.comparisons.map((c, i) => (aliases.has(i) ? { ...c, aliases: aliases.get(i) } : c)) };
}
