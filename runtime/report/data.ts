// What a run report is made from: the pipeline's stage graph, one run record, and what the lake says
// about that run beyond the record (schema changes). Plain data, so rendering is a pure function and a
// report can be rendered from records alone (tests, the benchmark, the Azure executor).

import { inputsOf, type Pipeline } from "../declare/pipeline.ts";
import type { SchemaChange } from "../state/bronze-state.ts";
import type { RunRecord } from "../state/run-records.ts";
import { kindOf } from "../stages/index.ts";

export interface StageNode {
  readonly name: string;
  readonly kind: string;
  readonly layer: "bronze" | "silver" | "gold";
  /** Names of the stages it reads. */
  readonly inputs: readonly string[];
  /** What `mallard plan` says about it. */
  readonly description: string;
}

export interface PipelineGraph {
  readonly name: string;
  readonly schedule: string;
  readonly stages: readonly StageNode[];
}

export interface StageSchemaChange extends SchemaChange {
  readonly stage: string;
}

export interface RunReportData {
  readonly graph: PipelineGraph;
  readonly run: RunRecord;
  readonly schemaChanges: readonly StageSchemaChange[];
  /** When the report was made (ISO time). */
  readonly generatedAt: string;
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
      description: kindOf(stage).describe(stage),
    })),
  };
}
