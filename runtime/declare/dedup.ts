// Declaration of a `silver.dedup` stage: probabilistic record linkage (Fellegi–Sunter) over one input.
// Plain typed data; the engine that runs it is runtime/dedup/, the YAML form is validated by `parseDedupArgs`.

/**
 * One level of a comparison, tried in declared order: the first level whose condition holds is the
 * pair's level for that comparison. A pair that matches none falls into the implicit `else` level.
 * String levels compare the comparison's `column` of the left (`l`) and right (`r`) record.
 */
export type ComparisonLevel =
  /** Values equal. With `termFrequency` on the comparison, rare values weigh more than common ones. */
  | { kind: "exact"; label?: string }
  /** Jaro-Winkler similarity ≥ threshold (0..1). @example { kind: "jaroWinkler", threshold: 0.9 } */
  | { kind: "jaroWinkler"; threshold: number; label?: string }
  /** Jaro similarity ≥ threshold (0..1). */
  | { kind: "jaro"; threshold: number; label?: string }
  /** Levenshtein edit distance ≤ max. @example { kind: "levenshtein", max: 2 } */
  | { kind: "levenshtein"; max: number; label?: string }
  /** Damerau-Levenshtein (transpositions count as one edit) distance ≤ max. */
  | { kind: "damerauLevenshtein"; max: number; label?: string }
  /** Jaccard similarity of the character sets ≥ threshold (0..1). */
  | { kind: "jaccard"; threshold: number; label?: string }
  /** |l − r| ≤ max, after casting both to DOUBLE. @example { kind: "numericDifference", max: 5 } */
  | { kind: "numericDifference"; max: number; label?: string }
  /** Both dates (or ISO date strings) within `max` units. @example { kind: "dateDifference", max: 1, unit: "year" } */
  | { kind: "dateDifference"; max: number; unit: DateUnit; label?: string }
  /**
   * Any boolean SQL over the pair, columns prefixed `l.` and `r.`; columns other than the comparison's
   * own must be listed in the comparison's `uses`.
   * @example { kind: "sql", sql: "l.first_name = r.surname AND l.surname = r.first_name", label: "swapped" }
   */
  | { kind: "sql"; sql: string; label: string };

export type ComparisonLevelKind = ComparisonLevel["kind"];
export type DateUnit = "day" | "month" | "year";

/** How a pair where either side's `column` is NULL is scored. */
export type NullHandling =
  /** Weight 0: missing data is neither evidence for nor against a match (Splink's behaviour). */
  | "neutral"
  /** Scored as the `else` level: a missing value counts as a disagreement. */
  | "disagree";

export interface Comparison {
  /** Column compared by the levels. @default the comparison's key in `compare` */
  column?: string;
  /** Ordered levels, strongest first. Must not be empty. @example [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.9 }] */
  levels: readonly ComparisonLevel[];
  /** Weigh exact matches by value frequency (a match on "Smith" is weaker than on "Zebedee"). @default false */
  termFrequency?: boolean;
  /** Pairs with a NULL `column` on either side. @default "neutral" */
  nulls?: NullHandling;
  /** Other columns that `sql` levels read; used to validate and to know which training blocks bias this comparison. */
  uses?: readonly string[];
}

/**
 * A blocking rule: records are compared only when every expression is equal (and not NULL) on both.
 * Each entry is a column name or a SQL expression over one record. Rules are unioned; no pair twice.
 * @example ["surname", "dob"]
 * @example ["substr(first_name, 1, 3)", "substr(surname, 1, 4)"]
 */
export type BlockingRule = string | readonly string[];

/** Which record of an entity represents it in the deduplicated table. */
export type SurvivorRule =
  /** The record with the greatest `column` (a timestamp, say); ties go to the smallest id. */
  | { kind: "mostRecent"; column: string }
  /** The record with the most non-NULL `columns` (all compared columns when omitted); ties to smallest id. */
  | { kind: "mostComplete"; columns?: readonly string[] }
  /** The record whose `column` comes first in `order` (unlisted values last); ties go to the smallest id. */
  | { kind: "sourcePriority"; column: string; order: readonly string[] };

export interface DedupTrainingArgs {
  /**
   * Blocking rules for expectation maximisation, one training session each. Each comparison learns its m
   * probabilities in the sessions whose rule does not read its columns, so use at least two rules on
   * different columns. @default the prediction `blocking` rules
   */
  blocking?: readonly BlockingRule[];
  /** Random record pairs sampled to estimate u probabilities. @default 2_000_000 */
  uPairs?: number;
  /** Seed for the u sample, so training is repeatable. @default 42 */
  seed?: number;
  /** EM iterations per session at most. @default 50 */
  maxIterations?: number;
  /** EM stops when no probability moves more than this. @default 1e-5 */
  tolerance?: number;
  /**
   * Probability that two random records are the same entity. Omit to estimate it from the EM sessions
   * (each session's match rate, corrected by how selective its blocking rule is).
   * @example 0.0001
   */
  prior?: number;
}

/**
 * Arguments of `silver.dedup(name, args)`.
 * @example
 * silver.dedup("people", {
 *   from: customers, id: "customer_id",
 *   blocking: [["surname", "dob"], ["substr(first_name,1,3)", "postcode"]],
 *   compare: {
 *     first_name: { levels: [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.9 }], termFrequency: true },
 *     dob: { levels: [{ kind: "exact" }, { kind: "dateDifference", max: 1, unit: "year" }] },
 *   },
 *   threshold: 0.9,
 *   survivor: { kind: "mostRecent", column: "updated_at" },
 * })
 */
export interface SilverDedupArgs<TFrom> {
  /** The input stage whose rows are deduplicated (in YAML: its name). */
  from: TFrom;
  /** Column that identifies a record, unique in the input. @example "customer_id" */
  id: string;
  /** Rules that generate candidate pairs; pairs outside every rule are never compared. Not empty. */
  blocking: readonly BlockingRule[];
  /** Comparisons by name, each a column with ordered levels. Not empty. */
  compare: Readonly<Record<string, Comparison>>;
  /** Match probability at or above which a pair links two records into one entity. @default 0.9 */
  threshold?: number;
  /** Representative record per entity in the deduplicated table. @default { kind: "mostComplete" } */
  survivor?: SurvivorRule;
  /** `"once"`: train on the first run, then reuse the saved parameters. `"every run"`: retrain each run. @default "once" */
  train?: "once" | "every run";
  /**
   * Most candidate pairs blocking may generate. The run refuses (naming the rule and its largest keys)
   * rather than explode when the rules would generate more. @default 50_000_000
   */
  pairBudget?: number;
  /** Training options. */
  training?: DedupTrainingArgs;
  /**
   * Link only records that are new since the last run against everything already seen, keeping earlier
   * links; `false` relinks all records each run. @default true
   */
  incremental?: boolean;
  /** Links table keeps pairs at or above this match probability (for explaining near misses). @default threshold */
  keepLinksAbove?: number;
}

/** The args as the engine needs them: `from` is resolved by the pipeline before the run. */
export type DedupSpec = Omit<SilverDedupArgs<unknown>, "from">;

/** Defaults, read in one place. */
export const dedupDefaults = {
  threshold: 0.9,
  survivor: { kind: "mostComplete" } as SurvivorRule,
  train: "once" as const,
  pairBudget: 50_000_000,
  uPairs: 2_000_000,
  seed: 42,
  maxIterations: 50,
  tolerance: 1e-5,
  incremental: true,
  nulls: "neutral" as NullHandling,
};

export { dedupArgsSchema, parseDedupArgs, checkDedupArgs } from "./dedup-schema.ts";
