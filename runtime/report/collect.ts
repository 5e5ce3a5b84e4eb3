// Gather what a run report needs from the lake: the run record (a given run, or the newest), the
// pipeline's graph, and the schema changes bronze recorded for that run.

import type { Pipeline } from "../declare/pipeline.ts";
import { ConfigError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import { RunRecords, type RunRecord } from "../state/run-records.ts";
import { pipelineGraph, type RunReportData, type StageSchemaChange } from "./data.ts";

export async function collectRunReport(pipeline: Pipeline, lake: Lake, run: RunRecord | string | undefined, now = new Date()): Promise<RunReportData> {
  const record = typeof run === "object" ? run : await findRun(pipeline, lake, run);
  return { graph: pipelineGraph(pipeline), run: record, schemaChanges: await schemaChangesOf(pipeline, lake, record.runId), generatedAt: now.toISOString() };
}

async function findRun(pipeline: Pipeline, lake: Lake, runId: string | undefined): Promise<RunRecord> {
  const records = new RunRecords(lake);
  const record = runId ? await records.get(pipeline.name, runId) : (await records.latest(pipeline.name, 1))[0];
  if (record) return record;
  throw new ConfigError([runId ? `report: pipeline "${pipeline.name}" has no run ${runId} in ${lake.location}` : `report: pipeline "${pipeline.name}" has no runs yet in ${lake.location} (mallard run first)`]);
}

/** Bronze states keep every schema change with the run that made it. */
async function schemaChangesOf(pipeline: Pipeline, lake: Lake, runId: string): Promise<StageSchemaChange[]> {
  const changes: StageSchemaChange[] = [];
  for (const stage of pipeline.stages) {
    if (stage.kind !== "bronze.table") continue;
    // Loaded on demand: the Delta reader needs DuckDB, which the Azure driver (which writes reports) never loads.
    const { readBronzeStateAlone } = await import("../stages/bronze-table/state.ts");
    const { state } = await readBronzeStateAlone(lake, pipeline.name, stage);
    for (const change of state?.schemaChanges ?? []) if (change.runId === runId) changes.push({ stage: stage.name, ...change });
  }
  return changes;
}
