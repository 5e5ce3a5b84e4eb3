// Declaration of a `silver.dedup` stage: probabilistic record linkage (Fellegi–Sunter) over one input.
// Plain typed data; the engine that runs it is runtime/dedup/, the YAML form is validated by `parseDedupArgs`.

import { z } from "zod";
import { ConfigError } from "../errors.ts";

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
   * Value pairs the data shows to be one entity's (William / Bill, Henry / Harry), learned without
   * labels: among candidate pairs that the other comparisons call likely matches, a pair of distinct
   * values seen in at least `minPairs` of them, and in likely matches more often than not.
   * @example { kind: "aliases", minPairs: 5 }
   */
  | { kind: "aliases"; minPairs?: number; label?: string }
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
  /**
   * Column compared by the levels: an input column, a `prepare` name, or an SQL expression over the
   * input's columns, computed once per record (`lower(trim(email))`). @default the comparison's key in `compare`
   */
  column?: string;
  /** Ordered levels, strongest first. Must not be empty. @example [{ kind: "exact" }, { kind: "jaroWinkler", threshold: 0.9 }] */
  levels: readonly ComparisonLevel[];
  /** Weigh exact matches by value frequency (a match on "Smith" is weaker than on "Zebedee"). @default false */
  termFrequency?: boolean;
  /** Pairs with a NULL `column` on either side. @default "neutral" */
  nulls?: NullHandling;
  /** Other columns that `sql` levels read; used to validate and to know which training blocks bias this comparison. */
  uses?: readonly string[];
  /**
   * Comparisons whose evidence this one repeats (an email built from the name repeats the name). When
   * all of them agree exactly, this comparison weighs its conditional weight given that agreement,
   * log2(m / u'), with u' learned from pairs that agree on them, instead of adding independent evidence.
   * Each must start with an `exact` level. @example ["first_name", "surname"]
   */
  correlatedWith?: readonly string[];
  /**
   * The `else` level (both values present, none of the declared levels met) means different entities:
   * a different date of birth, a different national id. Such a pair keeps its full negative weight, and
   * clustering never joins two records that conflict through a chain of other links; the link that
   * would have is refused, with the reason in the links table. Declare the tolerated differences (a
   * typo, a month) as levels. @default false
   */
  conflict?: boolean;
}

/**
 * A blocking rule: records are compared only when every expression is equal (and not NULL) on both.
 * Each entry is a column name, a `prepare` name or an SQL expression over one record. One entry may be a
 * list (`name_tokens`): records then pair when they share any element. Rules are unioned; no pair twice.
 * The object form caps block sizes (block purging).
 * @example ["surname", "dob"]
 * @example ["substr(first_name, 1, 3)", "substr(surname, 1, 4)"]
 * @example { on: "name_tokens", maxBlockRecords: 100 }
 */
export type BlockingRule = string | readonly string[] | BlockingRuleOptions;

export interface BlockingRuleOptions {
  /** The rule's expressions, as in the short form. */
  on: string | readonly string[];
  /**
   * Skip keys held by more than this many records: a value that common (a frequent name token) says
   * little and costs n(n−1)/2 pairs; other rules must find those records' pairs.
   */
  maxBlockRecords?: number;
}

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
  /** Random record pairs sampled to estimate u probabilities. @default 500_000 */
  uPairs?: number;
  /** Pairs of a training rule EM sees at most; a rule yielding more is sampled uniformly. @default 500_000 */
  sessionPairs?: number;
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
  /**
   * Cleaned columns computed once per record before blocking and comparing, by name: SQL over the
   * input's columns. Comparisons, `uses`, `sql` levels and blocking rules read them like input columns.
   * @example { email_clean: "lower(trim(email))", phone_digits: "regexp_replace(phone, '[^0-9]', '', 'g')" }
   */
  prepare?: Readonly<Record<string, string>>;
  /** Rules that generate candidate pairs; pairs outside every rule are never compared. Not empty. */
  blocking: readonly BlockingRule[];
  /** Comparisons by name, each a column with ordered levels. Not empty. */
  compare: Readonly<Record<string, Comparison>>;
  /** Match probability at or above which a pair is a match (the links table's `is_match`). @default 0.9 */
  threshold?: number;
  /**
   * Match probability at or above which a pair joins two records into one entity. Stricter than
   * `threshold` because clustering is transitive: one false link merges two whole entities, so its cost
   * grows with their sizes. @default 0.99
   */
  clusterThreshold?: number;
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
   * Link only the records that are new or whose compared columns changed since the last run, and
   * re-cluster only the entities they touch; every other entity keeps its id and links. `false` relinks
   * all records each run (entity ids still stay where clusters do not change). @default true
   */
  incremental?: boolean;
  /** Links table keeps pairs at or above this match probability (for explaining near misses). @default min(threshold, clusterThreshold) */
  keepLinksAbove?: number;
}

/** The args as the engine needs them: `from` is resolved by the pipeline before the run. */
export type DedupSpec = Omit<SilverDedupArgs<unknown>, "from">;

/** Defaults, read in one place. */
export const dedupDefaults = {
  threshold: 0.9,
  clusterThreshold: 0.99,
  survivor: { kind: "mostComplete" } as SurvivorRule,
  train: "once" as const,
  pairBudget: 50_000_000,
  uPairs: 500_000,
  sessionPairs: 500_000,
  seed: 42,
  maxIterations: 50,
  tolerance: 1e-5,
  incremental: true,
  nulls: "neutral" as NullHandling,
};


// ---- YAML form: the same args, `from` a stage name. Zod checks shapes; `checkDedupArgs` checks meaning.

const label = z.string().min(1).optional();
const unit01 = z.number().gt(0).lte(1);
const levelSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("exact"), label }),
  z.strictObject({ kind: z.literal("jaroWinkler"), threshold: unit01, label }),
  z.strictObject({ kind: z.literal("jaro"), threshold: unit01, label }),
  z.strictObject({ kind: z.literal("levenshtein"), max: z.number().int().min(0), label }),
  z.strictObject({ kind: z.literal("damerauLevenshtein"), max: z.number().int().min(0), label }),
  z.strictObject({ kind: z.literal("jaccard"), threshold: unit01, label }),
  z.strictObject({ kind: z.literal("numericDifference"), max: z.number().min(0), label }),
  z.strictObject({
    kind: z.literal("dateDifference"),
    max: z.number().min(0),
    unit: z.enum(["day", "month", "year"]),
    label,
  }),
  z.strictObject({ kind: z.literal("aliases"), minPairs: z.number().positive().optional(), label }),
  z.strictObject({ kind: z.literal("sql"), sql: z.string().min(1), label: z.string().min(1) }),
]);
const ruleParts = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: "expected a column name or SQL expression, or a non-empty list of them (in YAML, quote expressions with commas)",
});
const blockingRuleSchema = z.union([
  ruleParts,
  z.strictObject({ on: ruleParts, maxBlockRecords: z.number().int().min(2).optional() }),
], {
  error: "expected a column name or SQL expression, a non-empty list of them, or { on, maxBlockRecords } (in YAML, quote expressions with commas)",
});
const survivorSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("mostRecent"), column: z.string().min(1) }),
  z.strictObject({ kind: z.literal("mostComplete"), columns: z.array(z.string().min(1)).optional() }),
  z.strictObject({
    kind: z.literal("sourcePriority"),
    column: z.string().min(1),
    order: z.array(z.string()).min(1),
  }),
]);

/** Zod schema of the YAML (and JSON) form of `silver.dedup` args; `from` is the input stage's name. */
export const dedupArgsSchema = z.strictObject({
  from: z.string().min(1),
  id: z.string().min(1),
  prepare: z.record(z.string().min(1), z.string().min(1)).optional(),
  blocking: z.array(blockingRuleSchema),
  compare: z.record(
    z.string(),
    z.strictObject({
      column: z.string().min(1).optional(),
      levels: z.array(levelSchema),
      termFrequency: z.boolean().optional(),
      nulls: z.enum(["neutral", "disagree"]).optional(),
      uses: z.array(z.string().min(1)).optional(),
      correlatedWith: z.array(z.string().min(1)).min(1).optional(),
      conflict: z.boolean().optional(),
    }),
  ),
  threshold: z.number().gt(0).lt(1).optional(),
  clusterThreshold: z.number().gt(0).lt(1).optional(),
  survivor: survivorSchema.optional(),
  train: z.enum(["once", "every run"]).optional(),
  pairBudget: z.number().int().positive().optional(),
  training: z
    .strictObject({
      blocking: z.array(blockingRuleSchema).optional(),
      uPairs: z.number().int().positive().optional(),
      sessionPairs: z.number().int().positive().optional(),
      seed: z.number().int().optional(),
      maxIterations: z.number().int().positive().optional(),
      tolerance: z.number().positive().optional(),
      prior: z.number().gt(0).lt(1).optional(),
    })
    .optional(),
  incremental: z.boolean().optional(),
  keepLinksAbove: z.number().min(0).lt(1).optional(),
}) satisfies z.ZodType<SilverDedupArgs<string>>;

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/**
 * Validate the YAML form of a dedup stage; throws a ConfigError listing every problem, each naming the
 * stage and field, e.g. `stage "people": compare.surname: no levels`. Pass the input's columns to also
 * check that every referenced column exists.
 */
export function parseDedupArgs(stage: string, raw: unknown, columns?: readonly string[]): SilverDedupArgs<string> {
  const parsed = dedupArgsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const where = issue.path.length > 0 ? `${pathText(issue.path)}: ` : "";
        return `stage "${stage}": ${where}${issue.message}`;
      }),
    );
  }
  const problems = checkDedupArgs(stage, parsed.data, columns);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/**
 * Checks of meaning shared by the TypeScript and YAML forms: non-empty blocking and comparisons, levels,
 * thresholds, and (given the input's columns) that every referenced column exists. Returns the problems.
 */
export function checkDedupArgs(stage: string, args: DedupSpec, columns?: readonly string[]): string[] {
  const problems: string[] = [];
  const at = (field: string, message: string) => problems.push(`stage "${stage}": ${field}: ${message}`);
  const prepared = Object.keys(args.prepare ?? {});
  const known = columns ? new Set([...columns, ...prepared]) : undefined;
  const needColumn = (field: string, column: string) => {
    if (known && !known.has(column)) {
      at(field, `column "${column}" not found in the input (columns: ${[...known].join(", ")})`);
    }
  };
  const isName = (text: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(text);
  needColumn("id", args.id);
  for (const name of prepared) {
    if (columns?.includes(name)) at(`prepare.${name}`, "has the name of an input column; name the cleaned column differently");
    if (name.startsWith("_dd_")) at(`prepare.${name}`, "names starting with _dd_ are reserved");
  }
  if (args.blocking.length === 0) at("blocking", "no blocking rules (every pair would be compared)");
  args.blocking.forEach((rule, i) => {
    const parts = blockingRuleParts(rule);
    if (parts.length === 0) at(`blocking[${i}]`, "empty rule");
    for (const part of parts) if (isName(part)) needColumn(`blocking[${i}]`, part);
  });
  const names = Object.keys(args.compare);
  if (names.length === 0) at("compare", "no comparisons");
  for (const name of names) {
    const c = args.compare[name];
    const field = `compare.${name}`;
    if (c.levels.length === 0) at(field, "no levels");
    const column = c.column ?? name;
    if (isName(column)) needColumn(`${field}.column`, column);
    for (const used of c.uses ?? []) needColumn(`${field}.uses`, used);
    if (c.termFrequency && c.levels.length > 0 && !c.levels.some((l) => l.kind === "exact")) {
      at(`${field}.termFrequency`, "needs an exact level to adjust");
    }
    for (const other of c.correlatedWith ?? []) {
      const o = args.compare[other];
      if (other === name) at(`${field}.correlatedWith`, "a comparison cannot be correlated with itself");
      else if (!o) at(`${field}.correlatedWith`, `no comparison "${other}" (comparisons: ${names.join(", ")})`);
      else if (o.levels[0]?.kind !== "exact") at(`${field}.correlatedWith`, `"${other}" must start with an exact level (its agreement is the condition)`);
      else if (o.correlatedWith) at(`${field}.correlatedWith`, `"${other}" is itself correlatedWith others; name the comparisons it depends on instead`);
    }
    if (c.conflict && c.nulls === "disagree") at(`${field}.conflict`, 'needs nulls: "neutral" (a missing value is not a conflict)');
  }
  const t = args.threshold;
  if (t !== undefined && !(t > 0 && t < 1)) at("threshold", `must be between 0 and 1 (got ${t})`);
  const ct = args.clusterThreshold;
  if (ct !== undefined && !(ct > 0 && ct < 1)) at("clusterThreshold", `must be between 0 and 1 (got ${ct})`);
  if (args.pairBudget !== undefined && !(args.pairBudget > 0)) at("pairBudget", "must be positive");
  const survivor = args.survivor;
  if (survivor?.kind === "mostRecent" || survivor?.kind === "sourcePriority") {
    if (columns && !columns.includes(survivor.column)) {
      at("survivor.column", `column "${survivor.column}" not found in the input (columns: ${columns.join(", ")})`);
    }
  }
  return problems;
}

/** A blocking rule's expressions, whichever form it was declared in. */
export function blockingRuleParts(rule: BlockingRule): readonly string[] {
  if (typeof rule === "string") return [rule];
  if ("on" in rule) return typeof rule.on === "string" ? [rule.on] : rule.on;
  return rule;
}
