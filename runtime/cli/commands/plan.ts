// `mallard plan`: the DAG in execution order, each stage with its kind and inputs; `--format` prints it
// as Mermaid, Graphviz DOT or JSON instead.

import type { CommonOptions } from "../main.ts";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { pipelineGraph } from "../../lineage/graph.ts";
import { formatPlan, type PlanFormat } from "../../lineage/plan-formats.ts";

export async function planCommand(options: CommonOptions & { format?: PlanFormat }): Promise<number> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  process.stdout.write(formatPlan(pipelineGraph(pipeline), options.format ?? "text"));
  return 0;
}
