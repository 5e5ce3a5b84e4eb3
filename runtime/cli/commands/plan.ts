// `mallard plan`: the DAG in execution order, each stage with its kind and inputs.

import { inputsOf } from "../../declare/pipeline.ts";
import { describeResource } from "../../declare/sources.ts";
import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";

export async function planCommand(options: CommonOptions): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const out = process.stdout;
  out.write(`pipeline ${pipeline.name} (schedule ${pipeline.schedule}), ${pipeline.stages.length} stages in execution order:\n`);
  pipeline.stages.forEach((stage, i) => {
    const inputs = Object.entries(inputsOf(stage)).map(([view, s]) => (view === s.name ? view : `${view}=${s.name}`));
    const what = stage.kind === "bronze.table"
      ? `${stage.source.name}:${describeResource(stage.resource)}${stage.incremental ? ` incremental on (${stage.incremental.cursor.join(", ")})` : " full load"}`
      : stage.kind === "silver.dedup" ? `dedup of ${stage.from.name} by ${stage.spec.id}, ${Object.keys(stage.spec.compare).length} comparisons`
      : `from ${inputs.join(", ")}${stage.checks.length ? `, ${stage.checks.length} checks` : ""}`;
    out.write(`${String(i + 1).padStart(3)}. ${stage.name.padEnd(24)} ${stage.kind.padEnd(13)} ${what}\n`);
  });
  return 0;
}
