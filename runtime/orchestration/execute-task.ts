// Run one task: the stage's kind runs it (runtime/stages/index.ts); time it, and turn the outcome or the
// error into a task record. Shared by the local runner and the Azure executor.

import { taskCost } from "../cost/estimate.ts";
import { MeteredLake } from "../cost/metered-lake.ts";
import { resolveCostSettings } from "../cost/prices.ts";
import { CheckFailed, ConfigError, describeError, MallardError, redact, SchemaChanged, SourceError } from "../errors.ts";
import type { StageContext, StageOutcome } from "../stages/context.ts";
import { kindOf } from "../stages/index.ts";
import { ModelCheckFailed, ModelSqlInvalid } from "../stages/model.ts";
import type { TaskRecord } from "../state/run-records.ts";
import { TaskAbandoned } from "../lake/publish-guard.ts";
import type { Task } from "./plan.ts";

export async function executeTask(task: Task, ctx: StageContext, attempt = 1): Promise<TaskRecord> {
  // Every lake call of the task is counted for its cost estimate, whatever the outcome.
  const metered = new MeteredLake(ctx.lake);
  const record = await runTask(task, { ...ctx, lake: metered }, attempt);
  return { ...record, cost: taskCost(record.durationMs ?? 0, metered.usage, resolveCostSettings(ctx.pipeline.cost)) };
}

async function runTask(task: Task, ctx: StageContext, attempt: number): Promise<TaskRecord> {
  const started = Date.now();
  const base = { task: task.id, stage: ctx.stage.name, kind: ctx.stage.kind, attempt, startedAt: new Date(started).toISOString() };
  try {
    const outcome: StageOutcome = await kindOf(ctx.stage).run(ctx, task);
    const ended = Date.now();
    return { ...base, status: "succeeded", endedAt: new Date(ended).toISOString(), durationMs: ended - started, ...outcome };
  } catch (error) {
    const ended = Date.now();
    if (error instanceof TaskAbandoned) {
      return { ...base, status: "abandoned", endedAt: new Date(ended).toISOString(), durationMs: ended - started, note: describeError(error), retryable: false };
    }
    return {
      ...base,
      status: "failed",
      endedAt: new Date(ended).toISOString(),
      durationMs: ended - started,
      checks: error instanceof ModelCheckFailed ? error.checks : undefined,
      error: declaredAt(ctx, error) + describeError(error),
      // Retrying cannot fix a config, a failed check, a schema change or SQL that does not parse or bind.
      retryable: !(error instanceof ConfigError || error instanceof CheckFailed || error instanceof SchemaChanged || error instanceof ModelSqlInvalid),
      // A bug (not a MallardError) keeps its stack in the record for whoever debugs it; users see the message.
      note: error instanceof MallardError || !(error instanceof Error) ? undefined : redact(error.stack?.split("\n").slice(0, 6).join("\n") ?? ""),
    };
  }
}

/** `jobs.xlsx: sheet "jobs", row 7: ` before a problem the user can fix in a stage declared outside code. */
function declaredAt(ctx: StageContext, error: unknown): string {
  const place = ctx.stage.kind === "bronze.table" ? ctx.stage.declaredAt : undefined;
  // A source's refusal (no such table, a column it lacks) is as much the row's as a declaration problem.
  return place && (error instanceof ConfigError || error instanceof SourceError) ? `${place}: ` : "";
}
