// Blocking: candidate pairs are record pairs that agree on every expression of at least one rule.
// Rules are hash equi-joins on precomputed keys; a pair found by an earlier rule is not generated again.

import type { DuckDBConnection } from "@duckdb/node-api";
import { ConfigError } from "../errors.ts";
import { col, type Model, type NormalRule, type TableNames } from "./model.ts";
import { quoteIdent } from "./sql.ts";

export interface RulePairCount {
  rule: string;
  /** Pairs the rule's join yields (before removing pairs an earlier rule already found). */
  pairs: number;
  /** Largest key groups, for the pair-budget message. */
  largest: { records: number; exampleId: string }[];
}

/**
 * Pairs a rule yields without building them: Σ n(n−1)/2 over its key groups, minus the old×old pairs
 * an incremental run skips. Exact, and cheap (one GROUP BY).
 */
export async function countRulePairs(
  con: DuckDBConnection,
  names: TableNames,
  keyColumn: string,
  rule: NormalRule,
  onlyNew: boolean,
): Promise<RulePairCount> {
  const key = quoteIdent(keyColumn);
  const old = onlyNew ? `count(*) FILTER (WHERE NOT ${quoteIdent(col.isNew)})` : "0";
  const reader = await con.runAndReadAll(`
    WITH g AS (
      SELECT count(*) AS n, ${old} AS o,
             CAST(min(${quoteIdent(col.id)}) AS VARCHAR) AS example
      FROM ${names.records} WHERE ${key} IS NOT NULL GROUP BY ${key}
    ), p AS (SELECT n, example, (n * (n - 1) - o * (o - 1)) // 2 AS pairs FROM g)
    SELECT (SELECT coalesce(sum(pairs), 0) FROM p) AS total,
           (SELECT list({'records': n, 'exampleId': example} ORDER BY pairs DESC)[1:3] FROM p) AS largest`);
  const row = reader.getRowObjectsJS()[0];
  const largest = ((row.largest ?? []) as { records: bigint | number; exampleId: string }[]).map((g) => ({
    records: Number(g.records),
    exampleId: g.exampleId,
  }));
  return { rule: rule.text, pairs: Number(row.total), largest };
}

/** Refuse, naming the worst rules and their largest blocks, when rules would exceed the pair budget. */
export function checkPairBudget(stage: string, field: string, counts: RulePairCount[], budget: number): void {
  const total = counts.reduce((sum, c) => sum + c.pairs, 0);
  if (total <= budget) return;
  const fmt = (n: number) => n.toLocaleString("en-US");
  const worst = counts
    .map((c, i) => ({ ...c, i }))
    .sort((a, b) => b.pairs - a.pairs)
    .slice(0, 3)
    .map((c) => {
      const groups = c.largest.map((g) => `${fmt(g.records)} records (e.g. id ${g.exampleId})`).join(", ");
      return `${field}[${c.i}] (${c.rule}): ${fmt(c.pairs)} pairs; largest blocks: ${groups}`;
    });
  throw new ConfigError([
    `stage "${stage}": ${field}: would generate ${fmt(total)} candidate pairs, over the pair budget of ${fmt(budget)}; ` +
      `make the largest rules more selective (add a column) or raise pairBudget. ${worst.join("; ")}`,
  ]);
}

/** Join condition selecting the pairs of one rule, over aliases `l` and `r`, l before r. */
function ruleJoin(keyColumn: string, onlyNew: boolean): string {
  const key = quoteIdent(keyColumn);
  const rid = quoteIdent(col.rid);
  const isNew = quoteIdent(col.isNew);
  const fresh = onlyNew ? ` AND (l.${isNew} OR r.${isNew})` : "";
  return `l.${key} = r.${key} AND l.${rid} < r.${rid}${fresh}`;
}

/** Build the candidate pairs table (l, r, rule) as the union of the prediction rules, each pair once. */
export async function generatePairs(con: DuckDBConnection, model: Model, names: TableNames): Promise<number[]> {
  const rid = quoteIdent(col.rid);
  await con.run(`CREATE OR REPLACE TABLE ${names.pairs} (l UBIGINT, r UBIGINT, rule SMALLINT)`);
  const added: number[] = [];
  for (let i = 0; i < model.blocking.length; i++) {
    // Earlier rules' keys are on both rows, so "already found" is a cheap filter, not an anti-join.
    const earlier = Array.from({ length: i }, (_, j) => {
      const key = quoteIdent(col.blockKey(j));
      return `coalesce(l.${key} = r.${key}, FALSE)`;
    });
    const notEarlier = earlier.length > 0 ? `AND NOT (${earlier.join(" OR ")})` : "";
    const result = await con.run(`
      INSERT INTO ${names.pairs}
      SELECT l.${rid}, r.${rid}, ${i} FROM ${names.records} l JOIN ${names.records} r
        ON ${ruleJoin(col.blockKey(i), true)} ${notEarlier}`);
    added.push(Number(result.rowsChanged));
  }
  return added;
}

/**
 * FROM clause of the pairs of a training rule over all records, old and new (no union: each session
 * sees exactly its own rule's pairs, which is what its blocking correction assumes).
 */
export function trainingPairsFrom(names: TableNames, ruleIndex: number, fraction = 1, seed = 0): string {
  const rid = quoteIdent(col.rid);
  // A seeded hash of the pair keeps a uniform, repeatable sample: the pattern shares EM needs are unbiased.
  const sample = fraction < 1 ? ` AND hash(l.${rid}, r.${rid}, ${seed}) % 1000000 < ${Math.ceil(fraction * 1e6)}` : "";
  return `${names.records} l JOIN ${names.records} r ON ${ruleJoin(col.trainKey(ruleIndex), false)}${sample}`;
}
