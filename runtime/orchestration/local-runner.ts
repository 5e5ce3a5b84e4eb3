// Run a pipeline in this process: tasks start as soon as their inputs succeed, up to a concurrency
// limit; a failed task skips everything downstream of it. Used by `mallard run` and by tests. The run
// record names this process, so a run whose process was killed shows as abandoned, and the next run
// marks it so before it starts (bronze resumes from the checkpoints that run committed).

import pLimit from "p-limit";
import type { Pipeline } from "../declare/pipeline.ts";
import type { Source } from "../declare/sources.ts";
import { Engine, lakeAccess } from "../engine/engine.ts";
import { describeError, LakeError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import type { SecretChain } from "../secrets/secrets.ts";
import type { StageContext } from "../stages/context.ts";
import { newRunId, RunRecords, type RunRecord, type TaskRecord } from "../state/run-records.ts";
import type { SourceConnector } from "../sources/source.ts";
import { openConnector } from "./connectors.ts";
import { executeTask } from "./execute-task.ts";
import { type ProgressSnapshot, throttledProgress } from "../telemetry/progress.ts";
import { runCost } from "../cost/estimate.ts";
import { planTasks, stageByName, type Task } from "./plan.ts";
import { abandonDeadRuns, thisProcess } from "./run-owner.ts";
import { crashPoint } from "../faults.ts";
import type { NotifyContext } from "../notify/notify-run.ts";
import { runReportPath } from "../report/write.ts";

export type RunEvent =
  | { readonly type: "run-start"; readonly runId: string; readonly tasks: readonly Task[] }
  | { readonly type: "task-start"; readonly task: Task }
  | { readonly type: "task-log"; readonly task: Task; readonly message: string }
  /** Rows read so far, at most every PROGRESS_EVERY_MS per task; a terminal shows it, a log does not. */
  | { readonly type: "task-progress"; readonly task: Task; readonly progress: ProgressSnapshot }
  | { readonly type: "task-end"; readonly task: Task; readonly record: TaskRecord }
  | { readonly type: "run-end"; readonly record: RunRecord }
  /** An earlier run whose process died, marked abandoned before this one starts. */
  | { readonly type: "run-abandoned"; readonly record: RunRecord }
  /** Something outside the run's tasks happened (a notification sent or not); it changes nothing in the run. */
  | { readonly type: "notice"; readonly level: "info" | "warn"; readonly message: string };

export interface LocalRunOptions {
  readonly pipeline: Pipeline;
  readonly lake: Lake;
  readonly secrets: SecretChain;
  /** Folder SQL file paths are relative to. */
  readonly projectRoot: string;
  readonly select?: readonly string[];
  readonly fullRefresh?: boolean;
  /** Tasks running at once. @default 2 */
  readonly concurrency?: number;
  readonly trigger?: string;
  readonly onEvent?: (event: RunEvent) => void;
  /** How to open a source; tests pass their own to inject faults. @default openConnector */
  readonly connect?: (source: Source, secrets: SecretChain, lake: Lake) => Promise<SourceConnector>;
  /** Runs one task. @default executeTask */
  readonly runTask?: (task: Task, ctx: StageContext) => Promise<TaskRecord>;
  /** Backoff of webhook retries (tests shorten it). */
  readonly notifyDelivery?: NotifyContext["delivery"];
}

/** How often a task's progress reaches the display (which redraws every 100 ms anyway). */
export const PROGRESS_EVERY_MS = 250;

export async function runLocal(options: LocalRunOptions): Promise<RunRecord> {
  const { pipeline, lake } = options;
  const emit = options.onEvent ?? (() => undefined);
  const records = new RunRecords(lake);
  const tasks = planTasks(pipeline, { select: options.select });
  const runId = newRunId();
  // The engine first: if it cannot start, no run record is left behind in state "running".
  const engine = await Engine.create(pipeline.engine, lakeAccess(lake));
  try {
    for (const dead of await abandonDeadRuns(records, pipeline.name)) emit({ type: "run-abandoned", record: dead });
    await records.create({
      runId, pipeline: pipeline.name, status: "running", trigger: options.trigger ?? "cli", startedAt: new Date().toISOString(), owner: thisProcess(),
      tasks: Object.fromEntries(tasks.map((t) => [t.id, { task: t.id, stage: t.stage, kind: stageByName(pipeline, t.stage).kind, status: "pending" }])),
    });
  } catch (e) {
    await engine.close();
    throw new LakeError(`cannot write to the lake at ${lake.location}: ${describeError(e)}`, { cause: e });
  }
  emit({ type: "run-start", runId, tasks });

  const connectors = new Map<string, Promise<SourceConnector>>();
  const connect = options.connect ?? openConnector;
  const limit = pLimit(options.concurrency ?? 2);
  const results = new Map<string, Promise<TaskRecord>>();
  try {
    for (const task of tasks) {
      results.set(task.id, (async () => {
        const inputs = await Promise.all(task.dependsOn.map((d) => results.get(d)!));
        const blocker = inputs.find((r) => r.status !== "succeeded");
        const stage = stageByName(pipeline, task.stage);
        let record: TaskRecord;
        if (blocker) {
          record = { task: task.id, stage: stage.name, kind: stage.kind, status: "skipped", note: `input ${blocker.stage} ${blocker.status}` };
        } else {
          record = await limit(async () => {
            emit({ type: "task-start", task });
            // The stage need not wait for its "running" entry; its outcome is written after that one lands.
            const running = records.setTask(pipeline.name, runId, { task: task.id, stage: stage.name, kind: stage.kind, status: "running", startedAt: new Date().toISOString() });
            running.catch(() => undefined);
            const ctx: StageContext = {
              pipeline, stage, runId, lake, engine, secrets: options.secrets, projectRoot: options.projectRoot,
              fullRefresh: options.fullRefresh ?? false,
              connector: (source) => {
                if (!connectors.has(source.name)) connectors.set(source.name, connect(source, options.secrets, lake));
                return connectors.get(source.name)!;
              },
              log: (message) => emit({ type: "task-log", task, message }),
              progress: throttledProgress(PROGRESS_EVERY_MS, (progress) => emit({ type: "task-progress", task, progress })),
            };
            try {
              return await (options.runTask ?? executeTask)(task, ctx);
            } finally {
              await running;
            }
          });
          crashPoint("local:{task}:after-task", { task: task.id });
        }
        await records.setTask(pipeline.name, runId, record);
        emit({ type: "task-end", task, record });
        return record;
      })());
    }
    // Wait for every task even when one throws (the lake failing under a record update), so the engine is
    // never closed under a running task; then the run is marked failed rather than left "running".
    const settled = await Promise.allSettled(results.values());
    const broken = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (broken) {
      await records.update(pipeline.name, runId, (r) => ({
        ...r, status: "failed", endedAt: new Date().toISOString(), error: { stage: "(runner)", message: describeError(broken.reason) },
      })).catch(() => undefined);
      throw broken.reason;
    }
    const all = settled.map((r) => (r as PromiseFulfilledResult<TaskRecord>).value);
    const failed = all.find((r) => r.status === "failed");
    const final = await records.update(pipeline.name, runId, (r) => ({
      ...r,
      status: failed ? "failed" : "succeeded",
      endedAt: new Date().toISOString(),
      error: failed ? { stage: failed.stage, message: failed.error ?? "failed" } : undefined,
      cost: runCost(pipeline, r),
    }));
    emit({ type: "run-end", record: final });
    await notify(options, final, emit);
    return final;
  } finally {
    for (const pending of connectors.values()) await pending.then((c) => c.close(), () => undefined);
    await engine.close();
  }
}

/** The pipeline's webhooks, after the run is closed: whatever they answer, the run stays as recorded. */
async function notify(options: LocalRunOptions, record: RunRecord, emit: (event: RunEvent) => void): Promise<void> {
  if (!options.pipeline.notify?.webhooks.length) return;
  // Loaded only by pipelines that declare webhooks.
  const { notifyRunFinished } = await import("../notify/notify-run.ts");
  await notifyRunFinished({
    pipeline: options.pipeline, lake: options.lake, secrets: options.secrets,
    log: (level, message) => emit({ type: "notice", level, message }),
    // `mallard run` writes the report there as soon as the run returns.
    reportLink: options.lake.externalPath(runReportPath(options.pipeline.name, record.runId)),
    delivery: options.notifyDelivery,
  }, record);
}
