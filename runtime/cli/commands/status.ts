// `mallard status`: the last runs of the pipeline and every bronze table's checkpoint.

import { RunRecords } from "../../state/run-records.ts";
import { readBronzeState } from "../../state/bronze-state.ts";
import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { openLake } from "../../lake/open-lake.ts";
import { redact } from "../../errors.ts";

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
    if (stage.kind !== "bronze.table") continue;
    const { state } = await readBronzeState(lake, stage.name);
    const rows = state?.batches.reduce((n, b) => n + b.rows, 0) ?? 0;
    const position = !stage.incremental ? "full load each run"
      : state?.checkpoint ? state.checkpoint.columns.map((c, i) => `${c}=${state.checkpoint!.values[i]}`).join(", ")
      : "not loaded yet";
    out.write(`  ${stage.name.padEnd(24)} ${position}  (${state?.batches.length ?? 0} batches, ${rows.toLocaleString("en-US")} rows loaded)\n`);
  }
  return 0;
}
