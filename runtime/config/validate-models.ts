// Load-time checks that need the file system or DuckDB's parser: every model's SQL file exists, parses,
// and reads only its declared inputs; every piece of SQL a user writes (model, check, dedup expression)
// passes the SQL policy (sql-policy.ts). One message per problem, each naming the stage, field and file.
// SQL that passed the same checker on the same DuckDB with the same inputs before is not parsed again
// (sql-check-cache.ts): DuckDB loads only when some SQL is new or changed.

import type { Pipeline } from "../declare/pipeline.ts";
import type { GoldModel, SilverDedup, SilverModel, Stage } from "../declare/stages.ts";
import { blockingRuleParts } from "../declare/dedup.ts";
import { ConfigError, MallardError } from "../errors.ts";
import { companionViews } from "../stages/inputs.ts";
import { isInlineSql, modelSql } from "../stages/model-sql.ts";
import { type CheckerIdentity, SqlCheckCache } from "./sql-check-cache.ts";
import type { SqlSnippet } from "./sql-policy.ts";

/** One piece of a stage's SQL to check against the policy. */
interface PendingSql {
  /** Its stage's position in the pipeline: problems are reported in stage order. */
  readonly at: number;
  readonly stage: string;
  readonly snippet: SqlSnippet;
  /** The names it may read as tables. */
  readonly visible: ReadonlySet<string>;
  readonly hint: string;
}

/** How much SQL a validation parsed, and how much it took from the cache of passes. */
export interface ValidationCounts {
  readonly parsed: number;
  readonly cached: number;
}

export async function validateModels(
  pipeline: Pipeline,
  projectRoot: string,
  /** For tests: the checker's identity (default: this build's, see sql-check-cache.ts). */
  identity?: CheckerIdentity,
): Promise<ValidationCounts> {
  const problems: string[][] = pipeline.stages.map(() => []);
  const pending: PendingSql[] = [];
  pipeline.stages.forEach((stage, at) => {
    if (stage.kind === "silver.model" || stage.kind === "gold.model") problems[at].push(...modelSnippets(stage, at, projectRoot, pending));
    if (stage.kind === "silver.dedup") pending.push(...dedupSnippets(stage, at));
  });
  const cache = await SqlCheckCache.open(projectRoot, identity);
  const unchecked = pending.filter((p) => !cache.has(p));
  if (unchecked.length) {
    // Only now DuckDB: its parser judges what the cache does not know.
    const [{ Engine }, { refuseSql }] = await Promise.all([import("../engine/engine.ts"), import("./sql-policy.ts")]);
    // The parser needs no file: this engine reaches its work folder only.
    const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
    try {
      await engine.withConnection(async (con) => {
        for (const p of unchecked) {
          const refused = await refuseSql(con, p.snippet, p.visible, p.hint);
          if (refused.length) problems[p.at].push(...refused.map((r) => `stage "${p.stage}": ${r}`));
          else cache.add(p);
        }
      });
    } finally {
      await engine.close();
    }
    await cache.save();
  }
  if (problems.some((list) => list.length)) throw new ConfigError(problems.flat());
  return { parsed: unchecked.length, cached: pending.length - unchecked.length };
}

/** The names a stage's SQL may read as tables: its input views and their companions (`orders__history`). */
function inputViews(stage: Stage & { inputs: Readonly<Record<string, Stage>> }): Set<string> {
  return new Set(Object.entries(stage.inputs).flatMap(([v, input]) => [v, ...companionViews(input).map((s) => v + s)]));
}

function inputsHint(stage: Stage & { inputs: Readonly<Record<string, Stage>> }): string {
  return `inputs: ${Object.keys(stage.inputs).join(", ") || "none"}`;
}

/** A model's problems found without DuckDB (returned) and its SQL to check (added to `pending`). */
function modelSnippets(stage: SilverModel | GoldModel, at: number, projectRoot: string, pending: PendingSql[]): string[] {
  const problems: string[] = [];
  const here = (p: string) => `stage "${stage.name}": ${p}`;
  for (const check of stage.checks) {
    if (check.severity === "drop" && !["not_null", "accepted_values", "range", "sql_row", "unique"].includes(check.kind)) {
      problems.push(here(`checks.${check.name}: severity "drop" needs a row check (${check.kind} judges the whole table; use "warn" or "fail")`));
    }
  }
  const views = inputViews(stage);
  const snippets: SqlSnippet[] = [];
  if (stage.sql) {
    try {
      const sql = modelSql(stage, projectRoot);
      snippets.push({ field: isInlineSql(stage.sql) ? "sql" : `sql (${stage.sql})`, sql, form: "query" });
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else if (e instanceof MallardError) problems.push(e.message);
      else throw e;
    }
  }
  const results = new Set([...views, "model"]);
  for (const check of stage.checks) {
    if (check.kind === "sql") snippets.push({ field: `checks.${check.name}.sql`, sql: check.sql, form: "query" });
    if (check.kind === "sql_row") snippets.push({ field: `checks.${check.name}.condition`, sql: check.condition, form: "expression" });
  }
  for (const snippet of snippets) {
    // A check reads the materialised model as `model`; the model's own SQL cannot.
    const isCheck = snippet.field.startsWith("checks.");
    pending.push({ at, stage: stage.name, snippet, visible: isCheck ? results : views, hint: isCheck ? `${inputsHint(stage)}, model` : inputsHint(stage) });
  }
  return problems;
}

/** Every SQL expression of a dedup: prepare entries, compared columns, `sql` levels, blocking parts. */
function dedupSnippets(stage: SilverDedup, at: number): PendingSql[] {
  const { spec } = stage;
  const snippets: SqlSnippet[] = [];
  const expression = (field: string, sql: string) => snippets.push({ field, sql, form: "expression" });
  for (const [name, sql] of Object.entries(spec.prepare ?? {})) expression(`prepare.${name}`, sql);
  for (const [name, comparison] of Object.entries(spec.compare)) {
    if (comparison.column) expression(`compare.${name}.column`, comparison.column);
    comparison.levels.forEach((level, i) => {
      if (level.kind === "sql") expression(`compare.${name}.levels[${i}].sql`, level.sql);
    });
  }
  spec.blocking.forEach((rule, i) => blockingRuleParts(rule).forEach((part) => expression(`blocking[${i}]`, part)));
  (spec.training?.blocking ?? []).forEach((rule, i) => blockingRuleParts(rule).forEach((part) => expression(`training.blocking[${i}]`, part)));
  const visible = inputViews(stage);
  return snippets.map((snippet) => ({ at, stage: stage.name, snippet, visible, hint: inputsHint(stage) }));
}
