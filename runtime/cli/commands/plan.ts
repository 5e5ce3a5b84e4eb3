// `mallard plan`: the DAG in execution order, each stage with its kind and inputs.

import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { kindOf } from "../../stages/index.ts";

export async function planCommand(options: CommonOptions): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const out = process.stdout;
  out.write(`pipeline ${pipeline.name} (schedule ${pipeline.schedule}), ${pipeline.stages.length} stages in execution order:\n`);
  pipeline.stages.forEach((stage, i) => {
    out.write(`${String(i + 1).padStart(3)}. ${stage.name.padEnd(24)} ${stage.kind.padEnd(13)} ${kindOf(stage).describe(stage)}\n`);
  });
  return 0;
}
