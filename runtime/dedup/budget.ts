// The pair budget: every rule's cost, exact Σ n(n−1)/2 over its keys, counted on the records as this
// run would link them, before anything is built. Over budget, the refusal names the rule, its biggest
// keys and a refinement that fits.

import type { DuckDBConnection } from "@duckdb/node-api";
import { ConfigError } from "../errors.ts";
import { col, type Model, type NormalRule } from "./model.ts";
import { quoteIdent } from "./sql.ts";

export interface RuleCost {
  /** `blocking[2]` or `training.blocking[0]`. */
  field: string;
  rule: string;
  /** Pairs the rule's join yields (before removing pairs an earlier rule already found). */
  pairs: number;
  /** Pairs that are built: training rules are sampled down to `sessionPairs`. */
  built: number;
  /** Biggest keys, with their values as text. */
  largest: { records: number; key: string }[];
}

/** SQL of a rule's key groups over `source`: n, o (records not linked this run) and the key parts k0, k1, …. */
function groupsSql(source: string, parts: readonly string[], listPart: number, maxBlockRecords?: number): string {
  const isNew = quoteIdent(col.isNew);
  const values = parts.map((p, i) => (i === listPart ? `unnest(list_distinct(list_filter(${p}, x -> x IS NOT NULL)))` : p));
  const cols = values.map((v, i) => `${v} AS k${i}`);
  const notNull = parts.map((_, i) => `k${i} IS NOT NULL`).join(" AND ");
  const keys = parts.map((_, i) => `k${i}`).join(", ");
  const cap = maxBlockRecords === undefined ? "" : `HAVING count(*) <= ${maxBlockRecords}`;
  return `SELECT count(*) AS n, count(*) FILTER (WHERE NOT ${isNew}) AS o, ${keys}
    FROM (SELECT ${[...cols, isNew].join(", ")} FROM (${source}) s) WHERE ${notNull} GROUP BY ${keys} ${cap}`;
}

/** Pairs of one rule (or rule parts) over `source`; `onlyNew` leaves out pairs of two records not linked this run. */
export async function countPairs(
  con: DuckDBConnection,
  source: string,
  parts: readonly string[],
  listPart: number,
  options: { onlyNew: boolean; maxBlockRecords?: number; largest?: number },
): Promise<{ pairs: number; largest: { records: number; key: string }[] }> {
  const old = options.onlyNew ? "o" : "0";
  const keys = parts.map((_, i) => `k${i}`);
  const top = Math.max(1, options.largest ?? 3);
  // Only the biggest groups get their key as text (a cast per group of a million-group rule cost seconds);
  // ties go to the larger key hash, so the message is the same on every run.
  const reader = await con.runAndReadAll(`
    WITH g AS (${groupsSql(source, parts, listPart, options.maxBlockRecords)}),
    p AS (SELECT n, ${keys.join(", ")}, (n * (n - 1) - ${old} * (${old} - 1)) // 2 AS pairs FROM g),
    t AS (SELECT coalesce(sum(pairs), 0) AS total,
                 max_by({'n': n, ${keys.map((k) => `'${k}': ${k}`).join(", ")}}, (pairs, hash(${keys.join(", ")})), ${top})
                   FILTER (WHERE n >= 2) AS top FROM p)
    SELECT total, list_transform(coalesce(top, []), x -> {'records': x.n,
      'key': concat_ws(', ', ${keys.map((k) => `CAST(x.${k} AS VARCHAR)`).join(", ")})}) AS largest FROM t`);
  const row = reader.getRowObjectsJS()[0];
  const largest = ((row.largest ?? []) as { records: bigint | number; key: string }[]).map((g) => ({
    records: Number(g.records),
    key: g.key,
  }));
  return { pairs: Number(row.total), largest: options.largest === 0 ? [] : largest };
}

/** Cost of every rule that this run builds: the prediction rules, and the training rules when training. */
export async function ruleCosts(
  con: DuckDBConnection,
  model: Model,
  source: string,
  training: boolean,
): Promise<{ blocking: RuleCost[]; training: RuleCost[] }> {
  const cost = async (rule: NormalRule, field: string, onlyNew: boolean, cap: number): Promise<RuleCost> => {
    const counted = await countPairs(con, source, rule.exprs, rule.listPart, { onlyNew, maxBlockRecords: rule.maxBlockRecords });
    return { field, rule: rule.text, ...counted, built: Math.min(counted.pairs, cap) };
  };
  const blocking: RuleCost[] = [];
  for (const [i, rule] of model.blocking.entries()) blocking.push(await cost(rule, `blocking[${i}]`, true, Infinity));
  const sessions: RuleCost[] = [];
  if (training) {
    for (const [i, rule] of model.training.entries()) {
      sessions.push(await cost(rule, `training.blocking[${i}]`, false, model.sessionPairs));
    }
  }
  return { blocking, training: sessions };
}

export interface Refinement {
  /** The refined rule's parts. */
  parts: string[];
  /** Records-table column added to the rule (a compared or prepared column). */
  added: string;
  pairs: number;
}

/**
 * Refinements of a rule: the rule with one more compared column (or prepared value), each counted
 * exactly. Sorted by pairs, most first: the one that keeps the most pairs while fitting loses least.
 */
export async function refinements(con: DuckDBConnection, model: Model, source: string, rule: NormalRule, onlyNew: boolean): Promise<Refinement[]> {
  const candidates = [...new Set(model.comparisons.map((c) => c.column))]
    .filter((c) => !rule.parts.includes(c) && !rule.exprs.includes(quoteIdent(c)));
  const out: Refinement[] = [];
  for (const candidate of candidates) {
    const parts = [...rule.exprs, quoteIdent(candidate)];
    const { pairs } = await countPairs(con, source, parts, rule.listPart, { onlyNew, maxBlockRecords: rule.maxBlockRecords, largest: 0 });
    const shown = candidate.startsWith("_dd_v") ? model.prepared.find((p) => p.name === candidate)!.sql : candidate;
    out.push({ parts: [...rule.parts, shown], added: candidate, pairs });
  }
  return out.sort((a, b) => b.pairs - a.pairs);
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** `[a, b]` as a user would write the rule. */
export function ruleText(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
}

/**
 * Refuse, before anything is built, when the rules would build more pairs than the budget: name the
 * costliest rules with their biggest keys, and for the costliest a refinement that fits.
 */
export async function checkBudget(
  con: DuckDBConnection,
  model: Model,
  source: string,
  costs: { blocking: RuleCost[]; training: RuleCost[] },
  stage: string,
): Promise<void> {
  const all = [...costs.blocking, ...costs.training];
  const total = all.reduce((sum, c) => sum + c.built, 0);
  if (total <= model.pairBudget) return;
  const worst = [...all].sort((a, b) => b.built - a.built);
  const described = worst.slice(0, 2).map((c) => {
    const keys = c.largest.map((g) => `"${g.key}" (${fmt(g.records)} records)`).join(", ");
    return `${c.field} (${c.rule}): ${fmt(c.pairs)} pairs; biggest keys: ${keys}`;
  });
  const top = worst[0];
  let advice = "add a column to it or raise pairBudget";
  const index = Number(/\[(\d+)\]$/.exec(top.field)?.[1]);
  const rule = top.field.startsWith("training") ? model.training[index] : model.blocking[index];
  if (rule && !top.field.startsWith("training")) {
    const room = model.pairBudget - (total - top.built);
    const options = await refinements(con, model, source, rule, true);
    const fits = options.find((o) => o.pairs <= room);
    if (fits) advice = `refine it to ${ruleText(fits.parts)} (${fmt(fits.pairs)} pairs), which fits`;
    else if (options.length > 0) {
      const best = options[options.length - 1];
      advice = `even ${ruleText(best.parts)} makes ${fmt(best.pairs)} pairs; add two columns, drop the rule, or raise pairBudget`;
    }
  }
  throw new ConfigError([
    `stage "${stage}": blocking: would build ${fmt(total)} pairs, over the pair budget of ${fmt(model.pairBudget)}. ` +
      `${described.join("; ")}. For ${top.field}: ${advice} (see mallard dedup explain ${stage}).`,
  ]);
}
