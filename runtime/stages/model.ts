// Run a SQL or TypeScript model (silver or gold): expose inputs, materialise, check, split quarantined
// rows, publish output and quarantine atomically. A failing `fail` check publishes nothing.

import type { DuckDBConnection } from "@duckdb/node-api";
import { join } from "node:path";
import type { GoldModel, SilverModel } from "../declare/stages.ts";
import { copyToParquet, queryRows } from "../engine/engine.ts";
import { quoteIdent } from "../engine/sql.ts";
import { CheckFailed, StageError, describeError } from "../errors.ts";
import { publishTable, tableRoot, type TableColumn } from "../lake/tables.ts";
import { FAILED_CHECKS_COLUMN, failedChecksExpression, runChecks } from "../checks/run-checks.ts";
import type { CheckResult } from "../state/run-records.ts";
import type { StageContext, StageOutcome } from "./context.ts";
import { registerInputs } from "./inputs.ts";
import { modelSql } from "./model-sql.ts";

/** Thrown when a `fail` check fails; carries every check result for the run record. */
export class ModelCheckFailed extends CheckFailed {
  constructor(message: string, readonly checks: readonly CheckResult[]) {
    super(message);
  }
}

export async function runModel(ctx: StageContext<SilverModel | GoldModel>): Promise<StageOutcome> {
  const { stage } = ctx;
  return ctx.engine.withConnection(async (con) => {
    await registerInputs(con, ctx.lake, stage.name, stage.inputs);
    const rowsIn = await countInputs(con, Object.keys(stage.inputs));
    const select = await resultQuery(con, ctx);
    try {
      await con.run(`CREATE OR REPLACE TEMP TABLE model AS ${select}`);
    } catch (e) {
      throw new StageError(`stage "${stage.name}": ${stage.sql ? "sql" : "transform"}: ${describeError(e)}`);
    }
    const checks = await runChecks(con, stage.name, stage.checks);
    const failed = checks.filter((c) => !c.passed && c.severity === "fail");
    if (failed.length) {
      throw new ModelCheckFailed(
        `stage "${stage.name}": check failed: ${failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ""}`).join("; ")}`,
        checks,
      );
    }
    const dropList = failedChecksExpression(stage.checks);
    const outFile = join(ctx.engine.workDir, `${ctx.runId}-${stage.name}.parquet`);
    const keep = dropList ? `SELECT * FROM model WHERE len(${dropList}) = 0` : "SELECT * FROM model";
    await copyToParquet(con, keep, outFile);
    const [{ n: rowsOut }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM (${keep})`);
    const columns = await describeColumns(con, "model");
    // Quarantine first: once the model's new version is visible, the rows it dropped are visible too.
    const quarantined = dropList ? await publishQuarantine(con, ctx, dropList) : 0;
    const published = await publishTable(ctx.lake, {
      root: tableRoot(stage.layer, stage.name), runId: ctx.runId, localFiles: [outFile], rows: Number(rowsOut), columns,
    });
    return { rowsIn, rowsOut: Number(rowsOut), bytes: published.bytes, checks, quarantined, version: published.version };
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

/** Quarantine is published every run (empty when nothing failed), so it always matches the model. */
async function publishQuarantine(con: DuckDBConnection, ctx: StageContext<SilverModel | GoldModel>, dropList: string) {
  const file = join(ctx.engine.workDir, `${ctx.runId}-${ctx.stage.name}__quarantine.parquet`);
  const query = `SELECT *, ${dropList} AS ${quoteIdent(FAILED_CHECKS_COLUMN)} FROM model WHERE len(${dropList}) > 0`;
  await copyToParquet(con, query, file);
  const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM (${query})`);
  await con.run(`CREATE OR REPLACE TEMP VIEW quarantine AS ${query}`);
  const columns = await describeColumns(con, "quarantine");
  await publishTable(ctx.lake, {
    root: tableRoot(ctx.stage.layer, `${ctx.stage.name}__quarantine`), runId: ctx.runId, localFiles: [file], rows: Number(n), columns,
  });
  return Number(n);
}

export async function describeColumns(con: DuckDBConnection, relation: string): Promise<TableColumn[]> {
  const rows = await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE ${quoteIdent(relation)}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

async function countInputs(con: DuckDBConnection, views: readonly string[]): Promise<number> {
  let total = 0;
  for (const view of views) {
    const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM ${quoteIdent(view)}`);
    total += Number(n);
  }
  return total;
}
