// The pipeline as a graph of stages: what `mallard plan --format …` prints and what the run report draws.

import { inputsOf, type Pipeline } from "../declare/pipeline.ts";
import { kindOf } from "../stages/index.ts";

export interface StageNode {
  readonly name: string;
  readonly kind: string;
  readonly layer: "bronze" | "silver" | "gold";
  /** Names of the stages it reads. */
  readonly inputs: readonly string[];
  /** The view each input is read through in its SQL → that input's stage name. */
  readonly views: Readonly<Record<string, string>>;
  /** What `mallard plan` says about it. */
  readonly description: string;
}

export interface PipelineGraph {
  readonly name: string;
  readonly schedule: string;
  readonly stages: readonly StageNode[];
}

export function pipelineGraph(pipeline: Pipeline): PipelineGraph {
  return {
    name: pipeline.name,
    schedule: pipeline.schedule,
    stages: pipeline.stages.map((stage) => ({
      name: stage.name,
      kind: stage.kind,
      layer: stage.layer,
      inputs: Object.values(inputsOf(stage)).map((s) => s.name),
      views: Object.fromEntries(Object.entries(inputsOf(stage)).map(([view, s]) => [view, s.name])),
      description: kindOf(stage).describe(stage),
    })),
  };
}
