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
import { drawSamples, fit, recountSamples, type TrainingReport } from "./train.ts";

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
  /**
   * Keep the records and scored pairs (`<prefix>__records`, `<prefix>__scored`) for a report or the
   * benchmark to read; other working tables are dropped as soon as the run is done with them. @default false
   */
  keepIntermediate?: boolean;
  /** Called as each phase ends, with the next phase's name (progress, the benchmark's memory trace). */
  onPhase?: (next: DedupPhase | "done") => void;
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
  /** Wall milliseconds per phase. */
  timings: Record<DedupPhase, number>;
  /** CPU milliseconds per phase (the whole process's: Node and every DuckDB thread). */
  cpuTimings: Record<DedupPhase, number>;
}

export interface DedupRunResult {
  /** Names of the output tables in the connection (bare: quote them with quoteIdent). */
  tables: { links: string; entities: string; deduped: string };
  params: DedupParams;
  metrics: DedupMetrics;
}

export async function runDedup(con: DuckDBConnection, options: DedupRunOptions): Promise<DedupRunResult> {
  const clock = phaseClock(options.onPhase);
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
  clock.end("budget");

  const counts = await prepareRecords(con, source, model, names, stage);
  clock.end("prepare");

  const sessionPairs = budget.training.map((c) => c.pairs);
  let params = saved;
  let training: TrainingReport | undefined;
  if (params && hasAliases(model)) await useAliases(con, model, names, savedAliases(model, params));
  const learning = !saved && hasAliases(model);
  // A model that learns aliases keeps its sampled pairs' levels: once the aliases are known, it is fitted
  // again on the same pairs with only the alias levels re-decided.
  const samples = params ? undefined : await drawSamples(con, model, names, counts.total, sessionPairs, learning);
  if (samples) ({ params, report: training } = fit(model, samples, counts.total));
  if (!params) throw new Error("dedup: no parameters after training");
  clock.end("train");

  const added = await generatePairs(con, model, names);
  clock.end("block");

  await scorePairs(con, model, names, params);
  clock.end("score");
  if (learning && samples) {
    // Aliases are learned from the candidates the first model scores, then the model learns their weight.
    const aliases = await learnAliases(con, model, names, params);
    await useAliases(con, model, names, aliases);
    ({ params, report: training } = fit(model, await recountSamples(samples), counts.total));
    params = withAliases(params, aliases);
    clock.end("train");
    await rescorePairs(con, model, names, params, aliasLevels(model));
    clock.end("score");
  }

  // Working tables go as soon as nothing reads them: an in-memory table past the memory limit spills.
  const drop = async (...tables: string[]) => {
    for (const table of tables) await con.run(`DROP TABLE IF EXISTS ${table}`);
  };
  await drop(names.pairs, names.samples);
  const clustering = await clusterRecords(con, model, names, incremental);
  clock.end("cluster");
  const conflicts = await splitConflicts(con, model, names, incremental);
  clock.end("split");
  const ids = await assignEntityIds(con, model, names);
  let links = await writeLinks(con, model, names, params);
  if (incremental && options.previous?.links) {
    links += await carryOverLinks(con, model, names, quoteIdent(options.previous.links));
  }
  await drop(names.edges, names.labels, names.labelsNext, names.clusters, names.refused, names.aliases);
  clock.end("links");

  await writeDeduped(con, input, model, names);
  if (!options.keepIntermediate) await drop(...names.intermediate);
  clock.end("publish");

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
      timings: clock.wall,
      cpuTimings: clock.cpu,
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

/** Phases of a run, in order; `train` and `score` run twice when aliases are learned. */
export type DedupPhase = "budget" | "prepare" | "train" | "block" | "score" | "cluster" | "split" | "links" | "publish";

/**
 * Wall and CPU milliseconds per phase. CPU is the whole process's (every DuckDB thread runs in it): on a
 * shared machine it stretches far less than wall time with other people's load.
 */
function phaseClock(onPhase?: (next: DedupPhase | "done") => void) {
  const order: DedupPhase[] = ["budget", "prepare", "train", "block", "score", "cluster", "split", "links", "publish"];
  const zero = (): Record<DedupPhase, number> => ({ budget: 0, prepare: 0, train: 0, block: 0, score: 0, cluster: 0, split: 0, links: 0, publish: 0 });
  const wall = zero();
  const cpu = zero();
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  return {
    wall,
    cpu,
    /** Charge the time since the previous call to `phase`. */
    end(phase: DedupPhase): void {
      const now = performance.now();
      const used = process.cpuUsage(lastCpu);
      wall[phase] += Math.round(now - lastWall);
      cpu[phase] += Math.round((used.user + used.system) / 1000);
      lastWall = now;
      lastCpu = process.cpuUsage();
      onPhase?.(order[order.indexOf(phase) + 1] ?? "done");
    },
  };
}
