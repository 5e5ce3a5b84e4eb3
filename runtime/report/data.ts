// What a run report is made from: the pipeline's stage graph, one run record, and what the lake says
// about that run beyond the record (schema changes). Plain data, so rendering is a pure function and a
// report can be rendered from records alone (tests, the benchmark, the Azure executor).

import type { PipelineGraph } from "../lineage/graph.ts";
import type { SchemaChange } from "../state/bronze-state.ts";
import type { RunRecord } from "../state/run-records.ts";

export { pipelineGraph, type PipelineGraph, type StageNode } from "../lineage/graph.ts";

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
