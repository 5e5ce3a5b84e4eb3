// Scoring: every candidate pair gets a level per comparison, a weight per comparison (log2 Bayes factor),
// a total match weight (prior log-odds + Σ weights) and a match probability. All in one SQL pass.

import type { DuckDBConnection } from "@duckdb/node-api";
import { labelSql, pairTfSql, valuePairSql, weightSql } from "./comparisons.ts";
import { col, type Model, type TableNames } from "./model.ts";
import type { DedupParams } from "./params.ts";
import { pairRows } from "./patterns.ts";
import { quoteDouble, quoteIdent, quoteLiteral } from "./sql.ts";

/**
 * Create the scored pairs table: l, r, rule, g<i> (each comparison's level), match_weight and
 * match_probability. Per-comparison weights are not stored (writing them doubled the cost of scoring);
 * `comparisonWeightSql` recomputes any of them from the level and the records' term frequencies.
 */
export async function scorePairs(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  params: DedupParams,
): Promise<void> {
  const rid = quoteIdent(col.rid);
  const from = `${names.pairs} p JOIN ${names.records} l ON l.${rid} = p.l JOIN ${names.records} r ON r.${rid} = p.r`;
  const rows = pairRows(model, from, [], ["p.l AS _dd_l", "p.r AS _dd_r", "p.rule AS _dd_rule"]);
  const gammas = model.comparisons.map((c, i) => `${rows.gammas[i]} AS g${i}, ${pairTfSql(c)} AS tf${i}`);
  await writeScored(con, model, names, params, `SELECT _dd_l AS l, _dd_r AS r, _dd_rule AS rule, ${gammas.join(", ")} FROM ${rows.sql} pr`);
}

/**
 * Score the pairs again after aliases were learned and the model retrained: only the levels of the
 * comparisons with an `aliases` level can move (a pair that fell past that level may now meet it), so
 * the stored levels are reused and no similarity function runs again.
 */
export async function rescorePairs(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  params: DedupParams,
  aliasLevels: ReadonlyMap<number, number>,
): Promise<void> {
  const gammas = model.comparisons.map((c, i) => {
    const k = aliasLevels.get(i);
    const tf = `${pairTfSql(c)} AS tf${i}`;
    if (k === undefined || !c.aliasSet) return `s.g${i}, ${tf}`;
    const met = `${valuePairSql(c)} IN ${c.aliasSet}`;
    return `CASE WHEN s.g${i} > ${k} AND ${met} THEN ${k} ELSE s.g${i} END AS g${i}, ${tf}`;
  });
  await writeScored(con, model, names, params, `SELECT s.l, s.r, s.rule, ${gammas.join(", ")} FROM ${scoredWithRecords(names)}`);
}

/** The scored pairs joined to their two records (aliases s, l, r). */
export function scoredWithRecords(names: TableNames): string {
  const rid = quoteIdent(col.rid);
  return `${names.scored} s JOIN ${names.records} l ON l.${rid} = s.l JOIN ${names.records} r ON r.${rid} = s.r`;
}

/**
 * SQL of comparison i's weight (log2 Bayes factor) for a row with level column `g<i>` (and the `g`
 * columns of the comparisons it is correlated with) and term frequency `tf`.
 */
export function comparisonWeightSql(model: Model, params: DedupParams, i: number, tf: string): string {
  const c = model.comparisons[i];
  const levels = params.comparisons[i].levels;
  const m = levels.map((l) => l.m);
  const u = levels.map((l) => l.u);
  const uGiven = levels.map((l) => l.uGiven);
  const given = c.given.length > 0 && uGiven.every((x) => x !== undefined)
    ? { condition: c.given.map((g) => `g${g} = 0`).join(" AND "), u: uGiven as number[] }
    : undefined;
  return weightSql(c, `g${i}`, tf, m, u, given);
}

/** SQL of the total match weight: the prior's log-odds plus every comparison's weight (tf columns `tf<i>`). */
export function matchWeightSql(model: Model, params: DedupParams): string {
  const priorWeight = Math.log2(params.prior / (1 - params.prior));
  return [quoteDouble(priorWeight), ...model.comparisons.map((_, i) => `(${comparisonWeightSql(model, params, i, `tf${i}`)})`)].join(" + ");
}

/** Totals over `levels` (rows l, r, rule, g<i>, tf<i>), written to the scored table. */
async function writeScored(con: DuckDBConnection, model: Model, names: TableNames, params: DedupParams, levels: string): Promise<void> {
  const keep = ["l", "r", "rule", ...model.comparisons.map((_, i) => `g${i}`)];
  // Written to a new table first: a rescore reads the table it replaces.
  const next = quoteIdent(`${unquote(names.scored)}_next`);
  await con.run(`
    CREATE OR REPLACE TABLE ${next} AS
    WITH g AS (${levels}), w AS (SELECT ${keep.join(", ")}, ${matchWeightSql(model, params)} AS match_weight FROM g)
    SELECT *, 1.0 / (1.0 + pow(2.0, -match_weight)) AS match_probability FROM w`);
  await con.run(`DROP TABLE IF EXISTS ${names.scored}; ALTER TABLE ${next} RENAME TO ${quoteIdent(unquote(names.scored))}`);
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}

/**
 * The links table, one row per scored pair at or above `model.keepLinksAbove`: both ids, the total
 * weight and probability, the blocking rule that found the pair, per comparison its level and weight
 * (so a reader sees which columns pushed the pair over or under the threshold), and `refused`: why a
 * link strong enough to join was not used (it would have joined conflicting records).
 */
export async function writeLinks(con: DuckDBConnection, model: Model, names: TableNames, params: DedupParams): Promise<number> {
  const rid = quoteIdent(col.rid);
  const id = quoteIdent(col.id);
  const rules = model.blocking.map((r, i) => `WHEN ${i} THEN ${quoteLiteral(r.text)}`).join(" ");
  const perComparison = model.comparisons.flatMap((c, i) => [
    `${labelSql(c, `g${i}`)} AS ${quoteIdent(`${c.name}_level`)}`,
    `round(${comparisonWeightSql(model, params, i, pairTfSql(c, "a", "b"))}, 3) AS ${quoteIdent(`${c.name}_weight`)}`,
  ]);
  await con.run(`
    CREATE OR REPLACE TABLE ${names.links} AS
    SELECT least(a.${id}, b.${id}) AS ${quoteIdent(`${model.id}_l`)}, greatest(a.${id}, b.${id}) AS ${quoteIdent(`${model.id}_r`)},
           s.match_weight, s.match_probability,
           s.match_probability >= ${quoteDouble(model.threshold)} AS is_match,
           s.match_probability >= ${quoteDouble(model.clusterThreshold)} AND x.reason IS NULL AS joins_entity,
           x.reason AS refused,
           CASE s.rule ${rules} END AS blocking_rule,
           ${perComparison.join(", ")}
    FROM ${names.scored} s JOIN ${names.records} a ON a.${rid} = s.l JOIN ${names.records} b ON b.${rid} = s.r
    LEFT JOIN ${names.refused} x ON x.l = s.l AND x.r = s.r
    WHERE s.match_probability >= ${quoteDouble(model.keepLinksAbove)}
    ORDER BY s.match_weight DESC`);
  // CREATE TABLE … AS reports no changed rows, so count them.
  const counted = await con.runAndReadAll(`SELECT count(*) FROM ${names.links}`);
  return Number(counted.getRows()[0][0]);
}

/**
 * Incremental runs score only pairs with a record linked this run; the earlier links between records
 * that were not still explain the entities they carry over, so they are kept (by column name, in case
 * the links table gained a column). Links to records that left, changed or were relinked are not: the
 * links table is always true of the records as they are now.
 */
export async function carryOverLinks(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  previousLinks: string,
): Promise<number> {
  const id = quoteIdent(col.id);
  const l = quoteIdent(`${model.id}_l`);
  const r = quoteIdent(`${model.id}_r`);
  const describe = async (table: string) =>
    (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${table}`)).getRowObjectsJS().map((x) => String(x.column_name));
  const current = new Set(await describe(names.links));
  const shared = (await describe(previousLinks)).filter((c) => current.has(c)).map(quoteIdent);
  const kept = `(SELECT ${id} FROM ${names.records} WHERE NOT ${quoteIdent(col.isNew)})`;
  const result = await con.run(`
    INSERT INTO ${names.links} BY NAME
    SELECT ${shared.join(", ")} FROM ${previousLinks} p WHERE p.${l} IN ${kept} AND p.${r} IN ${kept}`);
  return Number(result.rowsChanged);
}
