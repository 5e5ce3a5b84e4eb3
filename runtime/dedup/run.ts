// Public entry of the dedup engine: records in (a table or view), links, entities and the deduplicated
// table out, with the trained parameters and metrics. All work happens in the given DuckDB connection.

import type { DuckDBConnection } from "@duckdb/node-api";
import { checkDedupArgs, type DedupSpec } from "../declare/dedup.ts";
import { ConfigError } from "../errors.ts";
import { aliasLevels, hasAliases, learnAliases, savedAliases, useAliases, withAliases } from "./aliases.ts";
import { generatePairs } from "./blocking.ts";
import { checkBudget, ruleCosts, type RuleCost } from "./budget.ts";
import { clusterRecords } from "./cluster.ts";
import { splitConflicts } from "./conflicts.ts";
import { assignEntityIds } from "./entity-ids.ts";
import { checkExpressions } from "./expressions.ts";
import { normalise, tableNames } from "./model.ts";
import { reusableParams, type DedupParams } from "./params.ts";
import { carryOverLinks, rescorePairs, scorePairs, writeLinks } from "./predict.ts";
import { materialiseSource, prepareRecords, type PreviousEntities } from "./records.ts";
import { quoteIdent } from "./sql.ts";
import { writeDeduped } from "./survivor.ts";
import { train, type TrainingReport } from "./train.ts";

export interface DedupRunOptions {
  /** Table or view holding the records (all of them: old and new), by name. */
  input: string;
  /** The stage's args, `from` already resolved to `input`. */
  spec: DedupSpec;
  /** Prefix of the tables this run creates: `<prefix>_links`, `<prefix>_entities`, `<prefix>_deduped`. */
  prefix: string;
  /** Stage name for error messages. @default prefix */
  stage?: string;
  /**
   * What the last run left: its parameters, its entities table (`<id>`, `entity_id`) and its links
   * table, by name. With entities, only new records are linked (unless `incremental: false`); with
   * links too, the earlier links are carried into this run's links table.
   */
  previous?: { params?: DedupParams; entities?: string; links?: string };
  /**
   * Relink every record (and retrain unless `previous.params` is given), using the previous entities
   * only to keep ids where clusters do not change: what `--full-refresh` does. @default false
   */
  relinkAll?: boolean;
  /** Keep the `<prefix>__*` working tables (for debugging and the benchmark). @default false */
  keepIntermediate?: boolean;
}

export interface DedupMetrics {
  records: number;
  /** Records linked this run: all in a full run; new, edited and those sharing an entity with them when incremental. */
  newRecords: number;
  /** Every rule's exact cost, counted before anything was built. */
  budget: { blocking: RuleCost[]; training: RuleCost[] };
  candidatePairs: number;
  pairsByRule: { rule: string; pairs: number }[];
  links: number;
  entities: number;
  entitiesCarriedOver: number;
  clusterRounds: number;
  /** Components split because they held conflicting records, and the links refused to split them. */
  conflicts: { components: number; refusedLinks: number };
  trained: boolean;
  training?: TrainingReport;
  /** Milliseconds per phase. */
  timings: { budget: number; prepare: number; train: number; block: number; predict: number; cluster: number; output: number };
}

export interface DedupRunResult {
  /** Names of the output tables in the connection (bare: quote them with quoteIdent). */
  tables: { links: string; entities: string; deduped: string };
  params: DedupParams;
  metrics: DedupMetrics;
}

export async function runDedup(con: DuckDBConnection, options: DedupRunOptions): Promise<DedupRunResult> {
  const clock = timer();
  const { stage, input, model, names } = await checkedModel(con, options);

  const entities = options.previous?.entities;
  const previous: PreviousEntities | undefined = entities
    ? { table: quoteIdent(entities), hasHashes: (await columnsOf(con, quoteIdent(entities))).includes("record_hash") }
    : undefined;
  const incremental = previous !== undefined && model.incremental && !options.relinkAll;
  const saved = model.train === "once" ? reusableParams(model, options.previous?.params) : undefined;
  // Every rule is counted on the records as this run will link them, before any pair is built.
  const source = await materialiseSource(con, model, input, names, previous, incremental ? "incremental" : "all");
  const budget = await ruleCosts(con, model, source, saved === undefined);
  try {
    await checkBudget(con, model, source, budget, stage);
  } catch (error) {
    await con.run(`DROP TABLE IF EXISTS ${names.source}`);
    throw error;
  }
  const budgetMs = clock();

  const counts = await prepareRecords(con, source, model, names, stage);
  const prepare = clock();

  const sessionPairs = budget.training.map((c) => c.pairs);
  let params = saved;
  let training: TrainingReport | undefined;
  if (params && hasAliases(model)) await useAliases(con, model, names, savedAliases(model, params));
  const learning = !saved && hasAliases(model);
  if (!params) {
    // A model that only has to find aliases is trained on a quarter of the samples: it is retrained after.
    const first = learning ? { ...model, uPairs: model.uPairs / 4, sessionPairs: model.sessionPairs / 4 } : model;
    ({ params, report: training } = await train(con, first, names, counts.total, sessionPairs));
  }
  let trainMs = clock();

  const added = await generatePairs(con, model, names);
  const block = clock();

  if (learning) {
    // Aliases are learned from the candidates the first model scores, then the model learns their weight.
    await scorePairs(con, model, names, params);
    const aliases = await learnAliases(con, model, names, params);
    await useAliases(con, model, names, aliases);
    ({ params, report: training } = await train(con, model, names, counts.total, sessionPairs));
    params = withAliases(params, aliases);
    trainMs += clock();
    await rescorePairs(con, model, names, params, aliasLevels(model));
  } else {
    await scorePairs(con, model, names, params);
  }
  const predict = clock();

  const clustering = await clusterRecords(con, model, names, incremental);
  const conflicts = await splitConflicts(con, model, names, incremental);
  const ids = await assignEntityIds(con, model, names);
  let links = await writeLinks(con, model, names, params);
  if (incremental && options.previous?.links) {
    links += await carryOverLinks(con, model, names, quoteIdent(options.previous.links));
  }
  const cluster = clock();

  await writeDeduped(con, input, model, names);
  if (!options.keepIntermediate) {
    for (const table of names.intermediate) await con.run(`DROP TABLE IF EXISTS ${table}`);
  }
  const output = clock();

  return {
    tables: {
      links: `${options.prefix}_links`,
      entities: `${options.prefix}_entities`,
      deduped: `${options.prefix}_deduped`,
    },
    params,
    metrics: {
      records: counts.total,
      newRecords: counts.fresh,
      budget,
      candidatePairs: added.reduce((a, b) => a + b, 0),
      pairsByRule: model.blocking.map((r, i) => ({ rule: r.text, pairs: added[i] })),
      links,
      entities: ids.entities,
      entitiesCarriedOver: ids.carriedOver,
      clusterRounds: clustering.rounds,
      conflicts: { components: conflicts.components, refusedLinks: conflicts.refused },
      trained: saved === undefined,
      training,
      timings: { budget: budgetMs, prepare, train: trainMs, block, predict, cluster, output },
    },
  };
}

/**
 * The stage's spec checked against its input's columns and normalised, its expressions tried on the
 * input: what a dedup run and the blocking advisor both start from.
 */
export async function checkedModel(con: DuckDBConnection, options: { input: string; spec: DedupSpec; prefix: string; stage?: string }) {
  const stage = options.stage ?? options.prefix;
  const input = quoteIdent(options.input);
  const columns = await columnsOf(con, input);
  const problems = checkDedupArgs(stage, options.spec, columns);
  if (problems.length > 0) throw new ConfigError(problems);
  const model = normalise(options.spec, columns);
  await checkExpressions(con, model, input, stage);
  return { stage, input, model, names: tableNames(options.prefix) };
}

export async function columnsOf(con: DuckDBConnection, table: string): Promise<string[]> {
  return (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${table}`)).getRowObjectsJS().map((r) => String(r.column_name));
}

/** Milliseconds since the previous call. */
function timer(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = now - last;
    last = now;
    return Math.round(elapsed);
  };
}
