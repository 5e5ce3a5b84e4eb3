// `mallard status`: the last runs of the pipeline and every bronze table's checkpoint (each kind says its own line).

import { RunRecords } from "../../state/run-records.ts";
import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { openLake } from "../../lake/open-lake.ts";
import { redact } from "../../errors.ts";
import { kindOf } from "../../stages/index.ts";

export async function statusCommand(options: CommonOptions & { limit: number }): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const lake = await openLake(options.lake);
  const out = process.stdout;
  const runs = await new RunRecords(lake).latest(pipeline.name, options.limit);
  out.write(`pipeline ${pipeline.name}, lake ${redact(lake.location)}\n\nlast runs:\n`);
  if (!runs.length) out.write("  (none yet)\n");
  for (const run of runs) {
    const tasks = Object.values(run.tasks);
    const count = (s: string) => tasks.filter((t) => t.status === s).length;
    const took = run.endedAt ? `${((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)}s` : "";
    out.write(`  ${run.runId}  ${run.status.padEnd(9)} ${run.startedAt}  ${took.padStart(7)}  ${count("succeeded")} ok, ${count("failed")} failed, ${count("skipped")} skipped`);
    out.write(run.error ? `  — ${run.error.stage}: ${redact(run.error.message)}\n` : "\n");
  }
  out.write("\ncheckpoints:\n");
  for (const stage of pipeline.stages) {
    const line = await kindOf(stage).status(stage, lake);
    if (line !== undefined) out.write(`  ${stage.name.padEnd(24)} ${line}\n`);
  }
  return 0;
}
