// Run a SQL or TypeScript model (silver or gold): expose inputs, materialise, check, split quarantined
// rows, publish output and quarantine atomically. A failing `fail` check publishes nothing.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { GoldModel, SilverModel } from "../declare/stages.ts";
import { queryRows } from "../engine/engine.ts";
import { quoteIdent } from "../engine/sql.ts";
import { CheckFailed, StageError, describeError } from "../errors.ts";
import { tableRoot } from "../lake/tables.ts";
import { FAILED_CHECKS_COLUMN, failedChecksExpression, runChecks } from "../checks/run-checks.ts";
import type { CheckResult, ColumnLineage } from "../state/run-records.ts";
import type { StageContext, StageOutcome } from "./context.ts";
import { companionViews, registerInputs } from "./inputs.ts";
import { columnLineage, viewColumns } from "../lineage/columns.ts";
import { modelSql } from "./model-sql.ts";
import { publishQuery } from "./publish-query.ts";

/** Thrown when a `fail` check fails; carries every check result for the run record. */
export class ModelCheckFailed extends CheckFailed {
  constructor(message: string, readonly checks: readonly CheckResult[]) {
    super(message);
  }
}

/**
 * Model SQL DuckDB cannot parse, or cannot bind against the model's inputs (a misspelt column, a missing
 * table): every attempt fails the same way, so the task fails at once instead of being retried.
 */
export class ModelSqlInvalid extends StageError {}

/** DuckDB's parser, binder and catalog errors: about the SQL's text and names, never about the data or the moment. */
function isInvalidSql(error: unknown): boolean {
  return error instanceof Error && /^(Parser|Binder|Catalog) Error:/.test(error.message);
}

export async function runModel(ctx: StageContext<SilverModel | GoldModel>): Promise<StageOutcome> {
  const { stage } = ctx;
  return ctx.engine.withConnection(async (con) => {
    const inputs = await registerInputs(con, ctx.lake, { pipeline: ctx.pipeline.name, stage: stage.name }, stage.inputs);
    const rowsIn = await countInputs(con, Object.keys(stage.inputs));
    const select = await resultQuery(con, ctx);
    try {
      await con.run(`CREATE OR REPLACE TEMP TABLE model AS ${select}`);
    } catch (e) {
      const message = `stage "${stage.name}": ${stage.sql ? "sql" : "transform"}: ${describeError(e)}`;
      throw isInvalidSql(e) ? new ModelSqlInvalid(message) : new StageError(message);
    }
    const lineage = await modelLineage(con, select, stage).catch(() => undefined);
    const checks = await runChecks(con, stage.name, stage.checks);
    const failed = checks.filter((c) => !c.passed && c.severity === "fail");
    if (failed.length) {
      throw new ModelCheckFailed(
        `stage "${stage.name}": check failed: ${failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ""}`).join("; ")}`,
        checks,
      );
    }
    const dropList = failedChecksExpression(stage.checks);
    const keep = dropList ? `SELECT * FROM model WHERE len(${dropList}) = 0` : "SELECT * FROM model";
    // Quarantine first: once the model's new version is visible, the rows it dropped are visible too.
    // It is published every run (empty when nothing failed), so it always matches the model.
    const quarantine = dropList
      ? await publishQuery(con, ctx, tableRoot(stage.layer, `${stage.name}__quarantine`),
          `SELECT *, ${dropList} AS ${quoteIdent(FAILED_CHECKS_COLUMN)} FROM model WHERE len(${dropList}) > 0`, inputs)
      : undefined;
    const published = await publishQuery(con, ctx, tableRoot(stage.layer, stage.name), keep, inputs);
    return {
      rowsIn, rowsOut: published.rows, bytes: published.bytes, checks, quarantined: quarantine?.rows ?? 0, version: published.version, lineage,
      note: published.steppedAside && `stepped aside: ${published.steppedAside}`,
    };
  });
}

async function resultQuery(con: DuckDBConnection, ctx: StageContext<SilverModel | GoldModel>): Promise<string> {
  const { stage } = ctx;
  if (stage.transform) {
    const views = Object.fromEntries(Object.keys(stage.inputs).map((k) => [k, quoteIdent(k)]));
    try {
      return await stage.transform(con, views);
    } catch (e) {
      throw new StageError(`stage "${stage.name}": transform: ${describeError(e)}`);
    }
  }
  return modelSql(stage, ctx.projectRoot);
}

/** Where each output column comes from, for the run report; a query the resolver cannot follow has none. */
async function modelLineage(con: DuckDBConnection, select: string, stage: SilverModel | GoldModel): Promise<ColumnLineage | undefined> {
  const views = Object.entries(stage.inputs).flatMap(([view, input]) => [view, ...companionViews(input).map((suffix) => view + suffix)]);
  const outputs = (await queryRows<{ column_name: string }>(con, "SELECT column_name FROM (DESCRIBE model)")).map((r) => r.column_name);
  return columnLineage(con, select, await viewColumns(con, views), outputs);
}

async function countInputs(con: DuckDBConnection, views: readonly string[]): Promise<number> {
  let total = 0;
  for (const view of views) {
    const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM ${quoteIdent(view)}`);
    total += Number(n);
  }
  return total;
}
