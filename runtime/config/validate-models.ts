// Load-time checks that need the file system or DuckDB's parser: every model's SQL file exists, parses,
// and reads only its declared inputs; every piece of SQL a user writes (model, check, dedup expression)
// passes the SQL policy (sql-policy.ts). One message per problem, each naming the stage, field and file.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Pipeline } from "../declare/pipeline.ts";
import type { GoldModel, SilverDedup, SilverModel, Stage } from "../declare/stages.ts";
import { blockingRuleParts } from "../declare/dedup.ts";
import { Engine } from "../engine/engine.ts";
import { ConfigError, MallardError } from "../errors.ts";
import { companionViews } from "../stages/inputs.ts";
import { isInlineSql, modelSql } from "../stages/model-sql.ts";
import { refuseSql, type SqlSnippet } from "./sql-policy.ts";

export async function validateModels(pipeline: Pipeline, projectRoot: string): Promise<void> {
  const problems: string[] = [];
  // The parser needs no file: this engine reaches its work folder only.
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 });
  try {
    await engine.withConnection(async (con) => {
      for (const stage of pipeline.stages) {
        if (stage.kind === "silver.model" || stage.kind === "gold.model") problems.push(...(await checkModel(con, stage, projectRoot)));
        if (stage.kind === "silver.dedup") problems.push(...(await checkDedup(con, stage)));
      }
    });
  } finally {
    await engine.close();
  }
  if (problems.length) throw new ConfigError(problems);
}

/** The names a stage's SQL may read as tables: its input views and their companions (`orders__history`). */
function inputViews(stage: Stage & { inputs: Readonly<Record<string, Stage>> }): Set<string> {
  return new Set(Object.entries(stage.inputs).flatMap(([v, input]) => [v, ...companionViews(input).map((s) => v + s)]));
}

function inputsHint(stage: Stage & { inputs: Readonly<Record<string, Stage>> }): string {
  return `inputs: ${Object.keys(stage.inputs).join(", ") || "none"}`;
}

async function checkModel(con: DuckDBConnection, stage: SilverModel | GoldModel, projectRoot: string): Promise<string[]> {
  const problems: string[] = [];
  const at = (p: string) => `stage "${stage.name}": ${p}`;
  for (const check of stage.checks) {
    if (check.severity === "drop" && !["not_null", "accepted_values", "range", "sql_row", "unique"].includes(check.kind)) {
      problems.push(at(`checks.${check.name}: severity "drop" needs a row check (${check.kind} judges the whole table; use "warn" or "fail")`));
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
    const visible = snippet.field.startsWith("checks.") ? results : views;
    const hint = snippet.field.startsWith("checks.") ? `${inputsHint(stage)}, model` : inputsHint(stage);
    problems.push(...(await refuseSql(con, snippet, visible, hint)).map(at));
  }
  return problems;
}

/** Every SQL expression of a dedup: prepare entries, compared columns, `sql` levels, blocking parts. */
async function checkDedup(con: DuckDBConnection, stage: SilverDedup): Promise<string[]> {
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
  const views = inputViews(stage);
  const problems: string[] = [];
  for (const snippet of snippets) problems.push(...(await refuseSql(con, snippet, views, inputsHint(stage))).map((p) => `stage "${stage.name}": ${p}`));
  return problems;
}
