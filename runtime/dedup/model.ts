// The dedup spec normalised once: defaults applied, prepared columns named, blocking rules as expression
// lists, comparisons with the columns they read, and the names of every table a run creates (one prefix).

import {
  blockingRuleParts,
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
  /** Column of the records table the levels compare (an input column, a prepared one, or `_dd_v<i>`). */
  column: string;
  /** Every records-table column the comparison reads (its column and `uses`). */
  columns: string[];
  /** Input columns behind them: what a training rule must not block on for this comparison to learn. */
  sources: string[];
  /** Indexes of the comparisons whose exact agreement conditions this one's weight (`correlatedWith`). */
  given: number[];
  /** The `else` level means different entities (`conflict`). */
  conflict: boolean;
  /**
   * SQL set (`(SELECT pair FROM …)`) of the value-pair hashes learned for an `aliases` level (see
   * `valuePairSql`); unset: the level holds for no pair.
   */
  aliasSet?: string;
  /** Records column holding the value cast to DATE once, for `dateDifference` levels. */
  dateColumn?: string;
  spec: Comparison;
}

export interface NormalRule {
  /** Readable form, e.g. `surname, substr(first_name, 1, 3)`. */
  text: string;
  /** Declared parts, as written. */
  parts: string[];
  /** SQL of each part over a records-table row. */
  exprs: string[];
  /** Input columns the expressions read (through prepared columns too). */
  columns: string[];
  /** Index of the part whose value is a list (records pair when they share an element), or -1. */
  listPart: number;
  /** Keys held by more records than this are skipped (block purging). */
  maxBlockRecords?: number;
}

/** A column computed once per record: `prepare` entries and comparisons whose `column` is an expression. */
export interface PreparedColumn {
  name: string;
  sql: string;
  /** Where it was declared, for messages: `prepare.email_clean`, `compare.email.column`. */
  field: string;
}

export interface Model {
  id: string;
  inputColumns: string[];
  prepared: PreparedColumn[];
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

export function normalise(spec: DedupSpec, inputColumns: readonly string[]): Model {
  const prepared: PreparedColumn[] = Object.entries(spec.prepare ?? {}).map(([name, sql]) => ({
    name,
    sql: `(${sql})`,
    field: `prepare.${name}`,
  }));
  const names = [...inputColumns, ...prepared.map((p) => p.name)];
  // Input columns behind a records-table column: itself, or what its prepare expression reads.
  const sourcesOf = (column: string): string[] => {
    const p = prepared.find((x) => x.name === column);
    return p ? columnsIn(p.sql, inputColumns) : [column];
  };
  const entries = Object.entries(spec.compare);
  const comparisons = entries.map(([name, c], i): NormalComparison => {
    let column = c.column ?? name;
    if (!names.includes(column)) {
      // An expression: computed once per record into its own column, compared like any other.
      const internal = `_dd_v${i}`;
      prepared.push({ name: internal, sql: `(${column})`, field: `compare.${name}.column` });
      column = internal;
    }
    const columns = [...new Set([column, ...(c.uses ?? [])])];
    const sources = [...new Set(columns.flatMap(sourcesOf))];
    const given = (c.correlatedWith ?? []).map((other) => entries.findIndex(([n]) => n === other));
    const dateColumn = c.levels.some((l) => l.kind === "dateDifference") ? `_dd_date${i}` : undefined;
    return { name, column, columns, sources, given, conflict: c.conflict ?? false, dateColumn, spec: c };
  });
  const rule = (r: BlockingRule): NormalRule => {
    const parts = [...blockingRuleParts(r)];
    // A bare column name is quoted so names that are SQL keywords still work; anything else is an expression.
    const exprs = parts.map((p) => (names.includes(p) ? quoteIdent(p) : `(${p})`));
    const columns = [...new Set(parts.flatMap((p) => (names.includes(p) ? sourcesOf(p) : columnsIn(p, names).flatMap(sourcesOf))))];
    const maxBlockRecords = typeof r === "object" && "on" in r ? r.maxBlockRecords : undefined;
    return { text: parts.join(", "), parts, exprs, columns, listPart: -1, maxBlockRecords };
  };
  const blocking = spec.blocking.map(rule);
  const t = spec.training ?? {};
  const threshold = spec.threshold ?? dedupDefaults.threshold;
  const clusterThreshold = spec.clusterThreshold ?? dedupDefaults.clusterThreshold;
  return {
    id: spec.id,
    inputColumns: [...inputColumns],
    prepared,
    comparisons,
    blocking,
    training: t.blocking ? t.blocking.map(rule) : blocking,
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

/** Every records-table column comparisons read, once each. */
export function comparedColumns(model: Model): string[] {
  return [...new Set(model.comparisons.flatMap((c) => c.columns))];
}

/** Names of the tables a run creates; intermediate ones start with `<prefix>__` and are dropped at the end. */
export function tableNames(prefix: string) {
  const q = (suffix: string) => quoteIdent(`${prefix}${suffix}`);
  const intermediate = [
    "__source", "__records", "__samples", "__pairs", "__scored", "__edges", "__labels", "__labels_next", "__clusters", "__refused", "__aliases",
  ];
  return {
    source: q("__source"),
    records: q("__records"),
    /** Training's sampled pairs, kept while aliases are learned. */
    samples: q("__samples"),
    pairs: q("__pairs"),
    scored: q("__scored"),
    edges: q("__edges"),
    labels: q("__labels"),
    labelsNext: q("__labels_next"),
    clusters: q("__clusters"),
    refused: q("__refused"),
    aliases: q("__aliases"),
    links: q("_links"),
    entities: q("_entities"),
    deduped: q("_deduped"),
    intermediate: intermediate.map(q),
  };
}
export type TableNames = ReturnType<typeof tableNames>;

/** Internal column names in the records table; the `_dd_` prefix keeps them apart from input columns. */
export const col = {
  rid: "_dd_rid",
  id: "_dd_id",
  /** Linked this run: new, changed, or in an entity a change touched (all records in a full run). */
  isNew: "_dd_new",
  prevEntity: "_dd_prev_entity",
  /** Hash of the columns linking reads, kept with the entities to find edited records next run. */
  hash: "_dd_hash",
  blockKey: (i: number) => `_dd_b${i}`,
  trainKey: (i: number) => `_dd_t${i}`,
  /** Key of the pairs on which a correlated comparison's condition holds (for its conditional u). */
  givenKey: (i: number) => `_dd_g${i}`,
  tf: (name: string) => `_dd_tf_${name}`,
} as const;
