// The dedup spec normalised once: defaults applied, blocking rules as expression lists, comparisons with
// the columns they read, and the names of every table a run creates (all under one prefix).

import {
  dedupDefaults,
  type BlockingRule,
  type Comparison,
  type DedupSpec,
  type SurvivorRule,
} from "../declare/dedup.ts";
import { quoteIdent } from "./sql.ts";

export interface NormalComparison {
  /** Name in `compare`, also the suffix of the links table's columns. */
  name: string;
  column: string;
  /** Every input column the comparison reads (its column and `uses`). */
  columns: string[];
  spec: Comparison;
}

export interface NormalRule {
  /** Readable form, e.g. `surname, substr(first_name, 1, 3)`. */
  text: string;
  exprs: string[];
  /** Input columns the expressions mention. */
  columns: string[];
}

export interface Model {
  id: string;
  comparisons: NormalComparison[];
  blocking: NormalRule[];
  training: NormalRule[];
  threshold: number;
  clusterThreshold: number;
  keepLinksAbove: number;
  survivor: SurvivorRule;
  train: "once" | "every run";
  pairBudget: number;
  uPairs: number;
  sessionPairs: number;
  seed: number;
  maxIterations: number;
  tolerance: number;
  prior?: number;
  incremental: boolean;
}

/** Input columns an expression mentions: identifiers (quoted or bare) that are columns of the input. */
export function columnsIn(expr: string, inputColumns: readonly string[]): string[] {
  const found = new Set<string>();
  for (const m of expr.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2];
    if (inputColumns.includes(name)) found.add(name);
  }
  return [...found];
}

function normalRule(rule: BlockingRule, inputColumns: readonly string[]): NormalRule {
  const parts = typeof rule === "string" ? [rule] : [...rule];
  // A bare column name is quoted so names that are SQL keywords still work; anything else is an expression.
  const exprs = parts.map((p) => (inputColumns.includes(p) ? quoteIdent(p) : `(${p})`));
  const columns = [...new Set(parts.flatMap((p) => columnsIn(p, inputColumns)))];
  return { text: parts.join(", "), exprs, columns };
}

export function normalise(spec: DedupSpec, inputColumns: readonly string[]): Model {
  const comparisons = Object.entries(spec.compare).map(([name, c]) => {
    const column = c.column ?? name;
    return { name, column, columns: [...new Set([column, ...(c.uses ?? [])])], spec: c };
  });
  const blocking = spec.blocking.map((r) => normalRule(r, inputColumns));
  const t = spec.training ?? {};
  const threshold = spec.threshold ?? dedupDefaults.threshold;
  const clusterThreshold = spec.clusterThreshold ?? dedupDefaults.clusterThreshold;
  return {
    id: spec.id,
    comparisons,
    blocking,
    training: t.blocking ? t.blocking.map((r) => normalRule(r, inputColumns)) : blocking,
    threshold,
    clusterThreshold,
    keepLinksAbove: spec.keepLinksAbove ?? Math.min(threshold, clusterThreshold),
    survivor: spec.survivor ?? dedupDefaults.survivor,
    train: spec.train ?? dedupDefaults.train,
    pairBudget: spec.pairBudget ?? dedupDefaults.pairBudget,
    uPairs: t.uPairs ?? dedupDefaults.uPairs,
    sessionPairs: t.sessionPairs ?? dedupDefaults.sessionPairs,
    seed: t.seed ?? dedupDefaults.seed,
    maxIterations: t.maxIterations ?? dedupDefaults.maxIterations,
    tolerance: t.tolerance ?? dedupDefaults.tolerance,
    prior: t.prior,
    incremental: spec.incremental ?? dedupDefaults.incremental,
  };
}

/** Names of the tables a run creates; intermediate ones start with `<prefix>__` and are dropped at the end. */
export function tableNames(prefix: string) {
  const q = (suffix: string) => quoteIdent(`${prefix}${suffix}`);
  return {
    records: q("__records"),
    pairs: q("__pairs"),
    scored: q("__scored"),
    edges: q("__edges"),
    labels: q("__labels"),
    labelsNext: q("__labels_next"),
    clusters: q("__clusters"),
    links: q("_links"),
    entities: q("_entities"),
    deduped: q("_deduped"),
    intermediate: ["__records", "__pairs", "__scored", "__edges", "__labels", "__labels_next", "__clusters"].map(q),
  };
}
export type TableNames = ReturnType<typeof tableNames>;

/** Internal column names in the records table; the `_dd_` prefix keeps them apart from input columns. */
export const col = {
  rid: "_dd_rid",
  id: "_dd_id",
  isNew: "_dd_new",
  prevEntity: "_dd_prev_entity",
  blockKey: (i: number) => `_dd_b${i}`,
  trainKey: (i: number) => `_dd_t${i}`,
  tf: (name: string) => `_dd_tf_${name}`,
} as const;
