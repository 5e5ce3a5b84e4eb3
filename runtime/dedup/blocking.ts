// Blocking: candidate pairs are record pairs that agree on every expression of at least one rule.
// Rules are hash equi-joins on precomputed keys (a list rule joins on its exploded elements); a pair
// found by an earlier rule is not generated again.

import type { DuckDBConnection } from "@duckdb/node-api";
import { col, type Model, type NormalRule, type TableNames } from "./model.ts";
import { quoteIdent } from "./sql.ts";

/** Condition that records `l` and `r` share a key of the rule (NULL-safe: missing is FALSE). */
export function sharesKey(rule: NormalRule, keyColumn: string): string {
  const key = quoteIdent(keyColumn);
  return rule.listPart < 0 ? `coalesce(l.${key} = r.${key}, FALSE)` : `coalesce(list_has_any(l.${key}, r.${key}), FALSE)`;
}

/**
 * FROM clause (aliases `l`, `r`, l before r) of the pairs sharing a key of one rule. `onlyNew`: at least
 * one record is linked this run. `fraction` < 1 keeps the pairs whose left record falls in a seeded
 * sample: each pair is kept with that probability, and the join does only that share of the work.
 */
export function rulePairsFrom(
  names: TableNames,
  keyColumn: string,
  rule: NormalRule,
  options: { onlyNew?: boolean; fraction?: number; seed?: number } = {},
): string {
  const key = quoteIdent(keyColumn);
  const rid = quoteIdent(col.rid);
  const isNew = quoteIdent(col.isNew);
  const fraction = options.fraction ?? 1;
  const sample = (alias: string) => (fraction < 1 ? ` AND hash(${alias}.${rid}, ${options.seed ?? 0}) % 1000000 < ${Math.ceil(fraction * 1e6)}` : "");
  if (rule.listPart < 0) {
    const fresh = options.onlyNew ? ` AND (l.${isNew} OR r.${isNew})` : "";
    return `${names.records} l JOIN ${names.records} r ON l.${key} = r.${key} AND l.${rid} < r.${rid}${fresh}${sample("l")}`;
  }
  // A pair sharing two elements meets twice in the exploded join: DISTINCT keeps it once.
  const exploded = `(SELECT ${rid} AS rid, ${isNew} AS fresh, unnest(${key}) AS k FROM ${names.records})`;
  const fresh = options.onlyNew ? " AND (x.fresh OR y.fresh)" : "";
  const pairs = `(SELECT DISTINCT x.rid AS lr, y.rid AS rr FROM ${exploded} x JOIN ${exploded} y
      ON x.k = y.k AND x.rid < y.rid${fresh}${sample("x")})`;
  return `${pairs} pp JOIN ${names.records} l ON l.${rid} = pp.lr JOIN ${names.records} r ON r.${rid} = pp.rr`;
}

/** Build the candidate pairs table (l, r, rule) as the union of the prediction rules, each pair once. */
export async function generatePairs(con: DuckDBConnection, model: Model, names: TableNames): Promise<number[]> {
  const rid = quoteIdent(col.rid);
  await con.run(`CREATE OR REPLACE TABLE ${names.pairs} (l UBIGINT, r UBIGINT, rule SMALLINT)`);
  const added: number[] = [];
  for (let i = 0; i < model.blocking.length; i++) {
    // Earlier rules' keys are on both rows, so "already found" is a cheap filter, not an anti-join.
    const earlier = model.blocking.slice(0, i).map((rule, j) => sharesKey(rule, col.blockKey(j)));
    const notEarlier = earlier.length > 0 ? `WHERE NOT (${earlier.join(" OR ")})` : "";
    const from = rulePairsFrom(names, col.blockKey(i), model.blocking[i], { onlyNew: true });
    const result = await con.run(`INSERT INTO ${names.pairs} SELECT l.${rid}, r.${rid}, ${i} FROM ${from} ${notEarlier}`);
    added.push(Number(result.rowsChanged));
  }
  return added;
}
