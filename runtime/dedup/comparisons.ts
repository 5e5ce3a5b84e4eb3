// Comparisons → SQL. Each comparison becomes a CASE expression giving the pair's level index (gamma):
// -1 when a value is missing (and nulls are neutral), 0.. for the declared levels, levels.length for `else`.

import type { ComparisonLevel } from "../declare/dedup.ts";
import type { NormalComparison } from "./model.ts";
import { col } from "./model.ts";
import { quoteDouble, quoteIdent, quoteLiteral } from "./sql.ts";

/** Gamma of the null level: excluded from m and u, weight 0. */
export const NULL_LEVEL = -1;

/** Similarity functions by level kind; Damerau-Levenshtein is prefiltered by Levenshtein (see below). */
const similarityFn: Partial<Record<ComparisonLevel["kind"], string>> = {
  jaroWinkler: "jaro_winkler_similarity",
  jaro: "jaro_similarity",
  jaccard: "jaccard",
  levenshtein: "levenshtein",
  damerauLevenshtein: "levenshtein",
  dateDifference: "date_days",
  numericDifference: "numeric_difference",
};

/** SQL of a shared term over the comparison's column (l and r already cast as needed). */
function termSql(fn: string, l: string, r: string, c?: NormalComparison): string {
  if (fn === "date_days" && c?.dateColumn) {
    // Cast once per record (the records table holds the DATE), not twice per pair.
    const d = quoteIdent(c.dateColumn);
    return `abs(date_diff('day', l.${d}, r.${d}))`;
  }
  if (fn === "date_days") return `abs(date_diff('day', TRY_CAST(${l} AS DATE), TRY_CAST(${r} AS DATE)))`;
  if (fn === "numeric_difference") return `abs(TRY_CAST(${l} AS DOUBLE) - TRY_CAST(${r} AS DOUBLE))`;
  return `${fn}(CAST(${l} AS VARCHAR), CAST(${r} AS VARCHAR))`;
}

/** Precomputed similarity values of one comparison: function name → column alias in the pair rows. */
export type SharedTerms = ReadonlyMap<string, string>;

/**
 * Similarity functions a comparison uses in two or more levels (`jaroWinkler ≥ 0.9`, then `≥ 0.7`):
 * computed once per pair in an inner projection, since a CASE re-evaluates them in every WHEN (this
 * cut the cost of febrl3's date and id comparisons by 40%).
 */
export function sharedTerms(c: NormalComparison, index: number): { alias: string; sql: string; fn: string }[] {
  const uses = new Map<string, number>();
  for (const level of c.spec.levels) {
    const fn = similarityFn[level.kind];
    if (fn) uses.set(fn, (uses.get(fn) ?? 0) + 1);
  }
  const column = quoteIdent(c.column);
  return [...uses]
    .filter(([, n]) => n >= 2)
    .map(([fn]) => ({
      fn,
      alias: `_dd_${fn}_${index}`,
      sql: termSql(fn, `l.${column}`, `r.${column}`, c),
    }));
}

/** SQL condition for one level of comparison `c`, over the pair aliases `l` and `r`. */
export function levelSql(level: ComparisonLevel, c: NormalComparison, shared: SharedTerms = new Map()): string {
  const column = c.column;
  const l = `l.${quoteIdent(column)}`;
  const r = `r.${quoteIdent(column)}`;
  // String functions need VARCHAR; a DATE or number column compares on its text form.
  const ls = `CAST(${l} AS VARCHAR)`;
  const rs = `CAST(${r} AS VARCHAR)`;
  const call = (fn: string) => {
    const alias = shared.get(fn);
    return alias ? quoteIdent(alias) : termSql(fn, l, r, c);
  };
  switch (level.kind) {
    case "exact":
      return `${l} = ${r}`;
    case "jaroWinkler":
      return `${call("jaro_winkler_similarity")} >= ${quoteDouble(level.threshold)}`;
    case "jaro":
      return `${call("jaro_similarity")} >= ${quoteDouble(level.threshold)}`;
    case "levenshtein":
      return `${call("levenshtein")} <= ${Math.floor(level.max)}`;
    case "damerauLevenshtein": {
      // A transposition is two Levenshtein edits, so DL ≤ k implies Levenshtein ≤ 2k: the cheap test
      // first (DuckDB's AND skips rows that fail it) makes this level ~4x faster.
      const k = Math.floor(level.max);
      return `(${call("levenshtein")} <= ${2 * k} AND damerau_levenshtein(${ls}, ${rs}) <= ${k})`;
    }
    case "jaccard":
      return `${call("jaccard")} >= ${quoteDouble(level.threshold)}`;
    case "numericDifference":
      return `${call("numeric_difference")} <= ${quoteDouble(level.max)}`;
    case "dateDifference": {
      // Compared in days so "1 year" means 365.25 days, not "crosses one new year" as date_diff counts.
      const days = level.max * { day: 1, month: 30.4375, year: 365.25 }[level.unit];
      return `${call("date_days")} <= ${quoteDouble(days)}`;
    }
    case "aliases":
      // The pair's two values, as one hash, looked up in the learned set (a hash join, where a list per
      // record cost a list copy per pair); before aliases are learned the level holds for no pair.
      return c.aliasSet ? `${valuePairSql(c)} IN ${c.aliasSet}` : "FALSE";
    case "sql":
      return `(${level.sql})`;
  }
}

/**
 * The pair's two values of comparison `c`, in either order, as one 64-bit hash: the key of a learned
 * alias. A hash collision could call one value pair in ~10^19 an alias; the set holds a few thousand.
 */
export function valuePairSql(c: NormalComparison, left = "l", right = "r"): string {
  const column = quoteIdent(c.column);
  const l = `CAST(${left}.${column} AS VARCHAR)`;
  const r = `CAST(${right}.${column} AS VARCHAR)`;
  return `hash(least(${l}, ${r}), greatest(${l}, ${r}))`;
}

/** Human label of each level, `else` last; used in params and the links table. */
export function levelLabels(c: NormalComparison): string[] {
  const labels = c.spec.levels.map((level) => {
    if (level.label) return level.label;
    switch (level.kind) {
      case "exact":
        return "exact";
      case "jaroWinkler":
      case "jaro":
      case "jaccard":
        return `${level.kind} >= ${level.threshold}`;
      case "levenshtein":
      case "damerauLevenshtein":
      case "numericDifference":
        return `${level.kind} <= ${level.max}`;
      case "dateDifference":
        return `within ${level.max} ${level.unit}${level.max === 1 ? "" : "s"}`;
      case "aliases":
        return "learned alias";
      case "sql":
        return level.label;
    }
  });
  return [...labels, "else"];
}

/** CASE expression for the comparison's gamma; `shared` names similarity values precomputed per pair. */
export function gammaSql(c: NormalComparison, shared: SharedTerms = new Map()): string {
  const column = quoteIdent(c.column);
  const elseLevel = c.spec.levels.length;
  const nullGamma = c.spec.nulls === "disagree" ? elseLevel : NULL_LEVEL;
  const whens = c.spec.levels.map((level, i) => `WHEN ${levelSql(level, c, shared)} THEN ${i}`);
  return [
    `CASE WHEN l.${column} IS NULL OR r.${column} IS NULL THEN ${nullGamma}`,
    ...whens,
    `ELSE ${elseLevel} END`,
  ].join(" ");
}

/** Per-level log2 Bayes factor log2(m/u); the null level weighs 0. */
export function levelWeights(m: readonly number[], u: readonly number[]): number[] {
  return m.map((mk, k) => Math.log2(mk / u[k]));
}

/**
 * CASE expression for a comparison's match weight given its gamma column. With term frequencies, an
 * exact match weighs log2(m / tf) instead of log2(m / u): agreeing on a value shared by 1% of records
 * is stronger evidence than on one shared by 20% (u is the average of tf over values).
 */
export function weightSql(
  c: NormalComparison,
  gammaColumn: string,
  tfSql: string,
  m: readonly number[],
  u: readonly number[],
  given?: { condition: string; u: readonly number[] },
): string {
  const weights = levelWeights(m, u);
  const whens = weights.map((w, k) => {
    const level = c.spec.levels[k];
    if (c.spec.termFrequency && level?.kind === "exact") {
      return `WHEN ${k} THEN ${quoteDouble(Math.log2(m[k]))} - log2(coalesce(${tfSql}, ${quoteDouble(u[k])}))`;
    }
    return `WHEN ${k} THEN ${quoteDouble(w)}`;
  });
  const plain = `CASE ${quoteIdent(gammaColumn)} ${whens.join(" ")} ELSE 0.0 END`;
  if (!given) return plain;
  // Where the correlated comparisons agree, this one's evidence is what it adds beyond them: log2(m / u').
  const conditional = levelWeights(m, given.u).map((w, k) => `WHEN ${k} THEN ${quoteDouble(w)}`);
  return `CASE WHEN ${given.condition} THEN (CASE ${quoteIdent(gammaColumn)} ${conditional.join(" ")} ELSE 0.0 END) ELSE ${plain} END`;
}

/** The larger of the pair's term frequencies, for `weightSql` (NULL without term frequencies). */
export function pairTfSql(c: NormalComparison, left = "l", right = "r"): string {
  if (!c.spec.termFrequency) return "CAST(NULL AS DOUBLE)";
  const tf = quoteIdent(col.tf(c.name));
  return `greatest(${left}.${tf}, ${right}.${tf})`;
}

/** CASE expression turning a gamma column into its level label. */
export function labelSql(c: NormalComparison, gammaColumn: string): string {
  const whens = levelLabels(c).map((label, k) => `WHEN ${k} THEN ${quoteLiteral(label)}`);
  return `CASE ${quoteIdent(gammaColumn)} ${whens.join(" ")} ELSE 'null' END`;
}
