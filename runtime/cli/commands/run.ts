// `mallard run`: run the pipeline in this process and print a summary. Exit 1 when a stage failed.

import { runLocal } from "../../orchestration/local-runner.ts";
import { RunDisplay, summaryTable } from "../display.ts";
import type { CommonOptions } from "../main.ts";
import { commandContext } from "./context.ts";
import type { RunRecord } from "../../state/run-records.ts";
import { describeError, redact } from "../../errors.ts";
import type { Pipeline } from "../../declare/pipeline.ts";
import type { Lake } from "../../lake/lake.ts";
import { writeRunReport } from "../../report/write.ts";

export interface RunOptions extends CommonOptions {
  select?: string[];
  fullRefresh: boolean;
  concurrency: number;
  queue: boolean;
  workers: number;
  queueName: string;
}

export async function runCommand(options: RunOptions): Promise<number> {
  const ctx = await commandContext(options);
  const display = new RunDisplay();
  const common = { ...ctx, select: options.select, fullRefresh: options.fullRefresh, onEvent: display.handle, trigger: "cli" };
  const record = options.queue ? await runQueued(options, common) : await runLocal({ ...common, concurrency: options.concurrency });
  printSummary(record, ctx.lake.location);
  await printReport(ctx.pipeline, ctx.lake, record);
  return record.status === "succeeded" ? 0 : 1;
}

/** Write the run's HTML report into the lake and say where it is; a failure to do so does not change the run's exit code. */
export async function printReport(pipeline: Pipeline, lake: Lake, record: RunRecord): Promise<void> {
  try {
    const { location } = await writeRunReport(pipeline, lake, record);
    process.stdout.write(`report: ${redact(location)}\n`);
  } catch (e) {
    process.stderr.write(`warning: the run report was not written: ${redact(describeError(e))}\n`);
  }
}

export function printSummary(record: RunRecord, lakeLocation: string): void {
  const out = process.stdout;
  out.write(`\n${summaryTable(record)}\n\n`);
  if (record.status === "succeeded") {
    out.write(`run ${record.runId} succeeded. Lake: ${redact(lakeLocation)}\n`);
  } else {
    out.write(`run ${record.runId} FAILED at stage "${record.error?.stage}": ${redact(record.error?.message ?? "")}\n`);
  }
}

/** The Azure path from a laptop: driver, queue and `--workers` executors, as the Functions host runs them. */
async function runQueued(options: RunOptions, common: Parameters<typeof runLocal>[0]): Promise<RunRecord> {
  const [{ runThroughQueue }, { openTaskQueue }] = await Promise.all([
    import("../../orchestration/azure/worker.ts"),
    import("../../orchestration/queue/open-queue.ts"),
  ]);
  const queue = await openTaskQueue(options.lake, options.queueName);
  return runThroughQueue({ ...common, queue, workers: options.workers });
}
