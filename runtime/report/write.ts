// Where reports live: `_mallard/reports/<pipeline>/<runId>.html` in the lake, beside the run records, so
// a report opens from the lake container, and the runs HTTP API serves it from there.

import type { Pipeline } from "../declare/pipeline.ts";
import { type Lake, lakePath } from "../lake/lake.ts";
import type { RunRecord } from "../state/run-records.ts";
import { collectRunReport } from "./collect.ts";
import { renderRunReport } from "./run-report.ts";

export function runReportPath(pipeline: string, runId: string): string {
  return lakePath("_mallard", "reports", pipeline, `${runId}.html`);
}

/** Render the report of a finished run and put it in the lake; returns where an outside reader finds it. */
export async function writeRunReport(pipeline: Pipeline, lake: Lake, run: RunRecord): Promise<{ path: string; location: string }> {
  const html = renderRunReport(await collectRunReport(pipeline, lake, run));
  const path = runReportPath(pipeline.name, run.runId);
  await lake.writeText(path, html);
  return { path, location: lake.externalPath(path) };
}

export async function readRunReport(lake: Lake, pipeline: string, runId: string): Promise<string | undefined> {
  return (await lake.readText(runReportPath(pipeline, runId)))?.value;
}
