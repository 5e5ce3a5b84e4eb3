// Run one task: find its stage's run code by kind, time it, and turn the outcome or the error into a
// task record. Shared by the local runner and the Azure executor.

import { partitionTasks, type Stage, type StageKind } from "../declare/stages.ts";
import { commitBronzePartitions, runBronzePartition } from "../stages/bronze-partitions.ts";
import { CheckFailed, ConfigError, describeError, MallardError, redact, SchemaChanged } from "../errors.ts";
import type { StageContext, StageOutcome, StageRunner } from "../stages/context.ts";
import { runBronzeTable } from "../stages/bronze-table.ts";
import { runSilverModel } from "../stages/silver-model.ts";
import { runGoldModel } from "../stages/gold-model.ts";
import { runSilverDedup } from "../stages/silver-dedup.ts";
import { ModelCheckFailed } from "../stages/model.ts";
import type { TaskRecord } from "../state/run-records.ts";
import { TaskAbandoned } from "../lake/publish-guard.ts";
import type { Task } from "./plan.ts";

/** Run code per stage kind: adding a stage kind adds one line here. */
const RUNNERS: { [K in StageKind]: StageRunner<Extract<Stage, { kind: K }>> } = {
  "bronze.table": runBronzeTable,
  "silver.model": runSilverModel,
  "gold.model": runGoldModel,
  "silver.dedup": runSilverDedup,
};

/** A partitioned bronze table runs as partition tasks plus its own task, which commits them. */
function runnerFor(task: Task, ctx: StageContext): StageRunner {
  const stage = ctx.stage;
  if (stage.kind === "bronze.table" && stage.partitions) {
    const count = partitionTasks(stage.partitions);
    return task.partition
      ? () => runBronzePartition(ctx as StageContext<typeof stage>, task.partition!)
      : () => commitBronzePartitions(ctx as StageContext<typeof stage>, count);
  }
  return RUNNERS[stage.kind] as StageRunner;
}

export async function executeTask(task: Task, ctx: StageContext, attempt = 1): Promise<TaskRecord> {
  const started = Date.now();
  const base = { task: task.id, stage: ctx.stage.name, kind: ctx.stage.kind, attempt, startedAt: new Date(started).toISOString() };
  try {
    const outcome: StageOutcome = await runnerFor(task, ctx)(ctx);
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
      error: describeError(error),
      retryable: !(error instanceof ConfigError || error instanceof CheckFailed || error instanceof SchemaChanged),
      // A bug (not a MallardError) keeps its stack in the record for whoever debugs it; users see the message.
      note: error instanceof MallardError || !(error instanceof Error) ? undefined : redact(error.stack?.split("\n").slice(0, 6).join("\n") ?? ""),
    };
  }
}
