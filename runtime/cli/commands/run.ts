// `mallard run`: run the pipeline in this process and print a summary. Exit 1 when a stage failed.

import { runLocal } from "../../orchestration/local-runner.ts";
import { RunDisplay, summaryTable } from "../display.ts";
import type { CommonOptions } from "../main.ts";
import { commandContext } from "./context.ts";
import type { RunRecord } from "../../state/run-records.ts";
import { redact } from "../../errors.ts";

export interface RunOptions extends CommonOptions {
  select?: string[];
  fullRefresh: boolean;
  concurrency: number;
}

export async function runCommand(options: RunOptions): Promise<number> {
  const ctx = await commandContext(options);
  const display = new RunDisplay();
  const record = await runLocal({
    ...ctx, select: options.select, fullRefresh: options.fullRefresh, concurrency: options.concurrency, onEvent: display.handle,
  });
  printSummary(record, ctx.lake.location);
  return record.status === "succeeded" ? 0 : 1;
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
