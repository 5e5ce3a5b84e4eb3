// The blocking advisor behind `mallard dedup explain <stage>`: for the declared rules on the current data,
// what each rule costs (exact) and adds to the union, where its biggest blocks are, and which share of the
// likely matches each rule alone would find, estimated by scoring a sample of every rule's pairs with the
// trained model. Rules over the pair budget get refinements that fit, each with the matches it keeps.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { DedupSpec } from "../declare/dedup.ts";
import { hasAliases, savedAliases, useAliases } from "./aliases.ts";
import { rulePairsFrom, sharesKey } from "./blocking.ts";
import { refinements, ruleCosts, ruleText, type RuleCost } from "./budget.ts";
import { col, type Model, type TableNames } from "./model.ts";
import { reusableParams, type DedupParams } from "./params.ts";
import { scorePairs } from "./predict.ts";
import { materialiseSource, prepareRecords } from "./records.ts";
import { checkedModel } from "./run.ts";
import { quoteDouble, quoteIdent } from "./sql.ts";
import { train } from "./train.ts";

export interface ExplainOptions {
  /** Table or view holding the records, by name. */
  input: string;
  spec: DedupSpec;
  /** Prefix of the working tables (dropped at the end). */
  prefix: string;
  stage?: string;
  /** The stage's saved parameters; without them (or when the comparisons changed) a model is trained here. */
  params?: DedupParams;
  /** Pairs sampled from each rule to estimate its share of likely matches. @default 100_000, at most 1M over all rules */
  samplePairs?: number;
}

export interface RuleAdvice {
  /** `blocking[2]`. */
  field: string;
  rule: string;
  /** Pairs the rule generates on its own, exact. */
  pairs: number;
  /** Pairs no earlier rule generates (what it adds to the union); undefined when not counted (the rule alone is over budget). */
  added?: number;
  largest: { records: number; key: string }[];
  /** Estimated share of the likely matches (among those all rules find) that this rule alone finds. */
  matchShare: number;
  /** Estimated share of the likely matches that only this rule finds: what dropping it would lose. */
  onlyShare: number;
  /** The rule is among those that take the total over the pair budget. */
  overBudget: boolean;
  /** For a rule over budget: rules with one more column, their exact pairs and the share of this rule's likely matches they keep. */
  refinements: { rule: string; pairs: number; fits: boolean; keeps: number }[];
}

export interface BlockingAdvice {
  stage: string;
  records: number;
  pairBudget: number;
  /** Pairs the whole run would build: prediction rules plus sampled training rules. */
  builtPairs: number;
  rules: RuleAdvice[];
  /** Pairs in the union of the prediction rules (each pair once); a lower bound when `unionComplete` is false. */
  union: number;
  unionComplete: boolean;
  training: RuleCost[];
  likelyMatches: {
    /** Match probability at or above which a pair counts as a likely match (the stage's threshold). */
    threshold: number;
    /** Estimated likely matches among the pairs the rules generate. */
    estimated: number;
    sampledPairs: number;
    /** Where the model came from: the stage's saved parameters, or trained for this explanation. */
    model: "saved" | "trained";
  };
}

const DEFAULT_SAMPLE = 100_000;
const MAX_SAMPLE_TOTAL = 1_000_000;

export async function explainBlocking(con: DuckDBConnection, options: ExplainOptions): Promise<BlockingAdvice> {
  const { stage, input, model, names } = await checkedModel(con, options);
  try {
    const source = await materialiseSource(con, model, input, names, undefined, "all");
    const saved = reusableParams(model, options.params);
    const costs = await ruleCosts(con, model, source, true);
    const counts = await prepareRecords(con, source, model, names, stage);
    let params = saved;
    if (params && hasAliases(model)) await useAliases(con, model, names, savedAliases(model, params));
    // Aliases are not learned here: an `aliases` level holds for no pair, so shares err on the low side.
    if (!params) ({ params } = await train(con, model, names, counts.total, costs.training.map((c) => c.pairs)));

    const over = overBudget(model, costs);
    const perRule = Math.max(1000, Math.min(options.samplePairs ?? DEFAULT_SAMPLE, Math.floor(MAX_SAMPLE_TOTAL / model.blocking.length)));
    const { added, fractions, sampled } = await samplePairs(con, model, names, costs.blocking, perRule);
    await scorePairs(con, model, names, params);

    // Refinements of the rules over budget share what the budget leaves after the others.
    const others = [...costs.blocking, ...costs.training].filter((c) => !over.has(c.field)).reduce((a, c) => a + c.built, 0);
    const room = Math.max(0, (model.pairBudget - others) / Math.max(1, over.size));
    const refinable = new Map<number, Awaited<ReturnType<typeof refinements>>>();
    for (const [i, rule] of model.blocking.entries()) {
      if (over.has(`blocking[${i}]`)) refinable.set(i, await refinements(con, model, `SELECT * FROM ${names.records}`, rule, false));
    }
    const shares = await likelyShares(con, model, names, fractions, refinable);

    const rules: RuleAdvice[] = model.blocking.map((rule, i) => {
      const cost = costs.blocking[i];
      const refined = (refinable.get(i) ?? []).map((o, k) => ({
        rule: ruleText(o.parts),
        pairs: o.pairs,
        fits: o.pairs <= room,
        keeps: shares.rule[i] > 0 ? shares.refined.get(i)![k] / shares.rule[i] : 0,
      }));
      // Best first: what fits, then keeps the most matches, then costs least.
      refined.sort((a, b) => Number(b.fits) - Number(a.fits) || b.keeps - a.keeps || a.pairs - b.pairs);
      return {
        field: cost.field,
        rule: rule.text,
        pairs: cost.pairs,
        added: added[i],
        largest: cost.largest,
        matchShare: ratio(shares.rule[i], shares.total),
        onlyShare: ratio(shares.only[i], shares.total),
        overBudget: over.has(cost.field),
        refinements: refined,
      };
    });
    return {
      stage,
      records: counts.total,
      pairBudget: model.pairBudget,
      builtPairs: [...costs.blocking, ...costs.training].reduce((a, c) => a + c.built, 0),
      rules,
      union: added.reduce((a: number, b) => a + (b ?? 0), 0),
      unionComplete: added.every((a) => a !== undefined),
      training: costs.training,
      likelyMatches: { threshold: model.threshold, estimated: Math.round(shares.total), sampledPairs: sampled, model: saved ? "saved" : "trained" },
    };
  } finally {
    for (const table of names.intermediate) await con.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** The costliest rules whose pairs take the total over the budget, costliest first, until the rest fits. */
function overBudget(model: Model, costs: { blocking: RuleCost[]; training: RuleCost[] }): Set<string> {
  const all = [...costs.blocking, ...costs.training];
  let total = all.reduce((a, c) => a + c.built, 0);
  const over = new Set<string>();
  for (const c of [...all].sort((a, b) => b.built - a.built)) {
    if (total <= model.pairBudget) break;
    over.add(c.field);
    total -= c.built;
  }
  return over;
}

/**
 * Count what each rule adds to the union (rules alone over budget are not joined in full) and sample
 * each rule's new pairs into the pairs table: a pair is kept with the rule's fraction, so 1 / fraction
 * weighs it back up. Every union pair belongs to the first rule that finds it, so the samples do not overlap.
 */
async function samplePairs(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  costs: RuleCost[],
  perRule: number,
): Promise<{ added: (number | undefined)[]; fractions: number[]; sampled: number }> {
  const rid = quoteIdent(col.rid);
  await con.run(`CREATE OR REPLACE TABLE ${names.pairs} (l UBIGINT, r UBIGINT, rule SMALLINT)`);
  const added: (number | undefined)[] = [];
  const fractions: number[] = [];
  let sampled = 0;
  for (const [i, rule] of model.blocking.entries()) {
    const earlier = model.blocking.slice(0, i).map((r, j) => sharesKey(r, col.blockKey(j)));
    const notEarlier = earlier.length > 0 ? `WHERE NOT (${earlier.join(" OR ")})` : "";
    const pairs = costs[i].pairs;
    if (pairs <= model.pairBudget) {
      const reader = await con.runAndReadAll(`SELECT count(*) FROM ${rulePairsFrom(names, col.blockKey(i), rule)} ${notEarlier}`);
      added.push(Number(reader.getRows()[0][0]));
    } else {
      added.push(undefined);
    }
    const fraction = Math.min(1, perRule / Math.max(1, pairs));
    fractions.push(fraction);
    const from = rulePairsFrom(names, col.blockKey(i), rule, { fraction, seed: model.seed });
    const result = await con.run(`INSERT INTO ${names.pairs} SELECT l.${rid}, r.${rid}, ${i} FROM ${from} ${notEarlier}`);
    sampled += Number(result.rowsChanged);
  }
  return { added, fractions, sampled };
}

/**
 * Weighted likely matches among the sampled pairs: in total, per rule (the pair shares the rule's key),
 * only per rule (no other rule's key), and per refinement of an over-budget rule (its key and the added column).
 */
async function likelyShares(
  con: DuckDBConnection,
  model: Model,
  names: TableNames,
  fractions: number[],
  refined: Map<number, { added: string }[]>,
): Promise<{ total: number; rule: number[]; only: number[]; refined: Map<number, number[]> }> {
  const rid = quoteIdent(col.rid);
  const flags = model.blocking.map((r, j) => sharesKey(r, col.blockKey(j)));
  const weight = `CASE s.rule ${fractions.map((f, i) => `WHEN ${i} THEN ${quoteDouble(1 / f)}`).join(" ")} END`;
  const sums = [
    `sum(w) AS total`,
    ...flags.map((f, j) => `sum(w) FILTER (WHERE ${f}) AS s${j}`),
    ...flags.map((f, j) => {
      const others = flags.filter((_, k) => k !== j);
      return `sum(w) FILTER (WHERE ${f}${others.length > 0 ? ` AND NOT (${others.join(" OR ")})` : ""}) AS o${j}`;
    }),
    ...[...refined].flatMap(([j, options]) =>
      options.map((o, k) => {
        const c = quoteIdent(o.added);
        return `sum(w) FILTER (WHERE ${flags[j]} AND coalesce(l.${c} = r.${c}, FALSE)) AS x${j}_${k}`;
      }),
    ),
  ];
  const reader = await con.runAndReadAll(`
    SELECT ${sums.join(", ")}
    FROM (SELECT s.l, s.r, ${weight} AS w FROM ${names.scored} s WHERE s.match_probability >= ${quoteDouble(model.threshold)}) s
    JOIN ${names.records} l ON l.${rid} = s.l JOIN ${names.records} r ON r.${rid} = s.r`);
  const row = reader.getRowObjectsJS()[0];
  const n = (key: string) => Number(row[key] ?? 0);
  return {
    total: n("total"),
    rule: flags.map((_, j) => n(`s${j}`)),
    only: flags.map((_, j) => n(`o${j}`)),
    refined: new Map([...refined].map(([j, options]) => [j, options.map((_, k) => n(`x${j}_${k}`))])),
  };
}

const fmt = (n: number) => n.toLocaleString("en-US");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The advice as text for a terminal: one line per rule, then what to change. */
export function formatAdvice(a: BlockingAdvice): string {
  const lines: string[] = [];
  const lm = a.likelyMatches;
  lines.push(`dedup ${a.stage}: ${fmt(a.records)} records, pair budget ${fmt(a.pairBudget)}, this run would build ${fmt(a.builtPairs)} pairs`);
  lines.push(
    `likely matches (p >= ${lm.threshold}, ${lm.model === "saved" ? "the stage's saved model" : "a model trained now"}): ` +
      `about ${fmt(lm.estimated)} among the rules' pairs, from ${fmt(lm.sampledPairs)} sampled pairs`,
  );
  lines.push("");
  const rows = [
    ["rule", "pairs", "new in union", "finds alone", "only it finds", "largest blocks"],
    ...a.rules.map((r) => [
      `${r.field} ${r.rule}${r.overBudget ? "  OVER BUDGET" : ""}`,
      fmt(r.pairs),
      r.added === undefined ? "not counted" : fmt(r.added),
      pct(r.matchShare),
      pct(r.onlyShare),
      r.largest.map((g) => `${fmt(g.records)} "${g.key}"`).join(", "),
    ]),
    [a.unionComplete ? "union" : "union (without the rules not counted)", "", fmt(a.union), "100%", "", ""],
    ...a.training.map((t) => [`${t.field} ${t.rule}`, fmt(t.pairs), `trains on ${fmt(t.built)}`, "", "", t.largest.map((g) => `${fmt(g.records)} "${g.key}"`).join(", ")]),
  ];
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  for (const r of rows) lines.push(r.map((cell, k) => (k >= 1 && k <= 4 ? cell.padStart(widths[k]) : cell.padEnd(widths[k]))).join("  ").trimEnd());
  lines.push("");
  lines.push(`"finds alone": share of the likely matches whose records the rule pairs; "only it finds": what dropping it loses.`);
  lines.push(`Matches that no rule pairs are not counted: add a rule on other columns where several rules share one column.`);
  for (const r of a.rules.filter((x) => x.overBudget)) {
    lines.push("");
    lines.push(`${r.field} (${r.rule}) is over budget with ${fmt(r.pairs)} pairs. Refinements (one more column), best first:`);
    for (const o of r.refinements.slice(0, 5)) {
      lines.push(`  ${o.rule}: ${fmt(o.pairs)} pairs${o.fits ? ", fits" : ", still over"}; keeps ${pct(o.keeps)} of its likely matches`);
    }
    if (r.refinements.length === 0) lines.push("  none: no compared column is left to add; use a prefix or drop the rule");
  }
  const useless = a.rules.filter((r) => r.onlyShare < 0.001 && !r.overBudget && a.rules.length > 1);
  if (useless.length > 0) {
    lines.push("");
    lines.push(`No likely match is found only by ${useless.map((r) => r.field).join(", ")}: one of them can go (drop one, then explain again).`);
  }
  return lines.join("\n");
}
