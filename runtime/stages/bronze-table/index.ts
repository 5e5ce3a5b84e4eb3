// The run side of `bronze.table`: one task, or for a partitioned table parallel extraction tasks and then
// the table's own task, which commits them all; models read it as latest-per-key and `__history`.
// Files here: run.ts (one-task load), partitions.ts, commit.ts, state.ts, migrate.ts, schema.ts (columns, evolution), sweep.ts,
// paths.ts, log.ts, views.ts (register-views.ts).

import { describeResource } from "../../declare/sources.ts";
import { partitionTasks, type BronzeTable } from "../../declare/stages.ts";
import type { StageKindModule } from "../kind.ts";
import { bronzeViews } from "./views.ts";

export const bronzeTable: StageKindModule<BronzeTable> = {
  tasks(stage, dependsOn) {
    if (!stage.partitions) return [{ id: stage.name, stage: stage.name, dependsOn }];
    const count = partitionTasks(stage.partitions);
    const parts = Array.from({ length: count }, (_, index) => ({ id: `${stage.name}#${index}`, stage: stage.name, dependsOn, partition: { index, count } }));
    return [...parts, { id: stage.name, stage: stage.name, dependsOn: parts.map((p) => p.id) }];
  },

  async run(ctx, task) {
    const { partitions } = ctx.stage;
    if (!partitions) return (await import("./run.ts")).runBronzeTable(ctx);
    const { commitBronzePartitions, runBronzePartition } = await import("./partitions.ts");
    return task.partition ? runBronzePartition(ctx, task.partition) : commitBronzePartitions(ctx, partitionTasks(partitions));
  },

  views: bronzeViews,

  describe: (stage) =>
    `${stage.source.name}:${describeResource(stage.resource)}${
      stage.incremental ? ` incremental on (${stage.incremental.cursor.join(", ")})` : stage.resource.kind === "files" && stage.resource.load === "incremental" ? " new files" : " full load"}`,

  async status(stage, lake, pipeline) {
    // Loaded on demand: the Delta reader needs DuckDB (for checkpoints), which `mallard plan` never loads.
    const { state } = await (await import("./state.ts")).readBronzeStateAlone(lake, pipeline, stage);
    const rows = state?.batches.reduce((n, b) => n + b.rows, 0) ?? 0;
    const position = state?.ledger ? `${state.ledger.filter((f) => !f.partial).length.toLocaleString("en-US")} files loaded`
      : !stage.incremental ? "full load each run"
      : state?.checkpoint ? state.checkpoint.columns.map((c, i) => `${c}=${state.checkpoint!.values[i]}`).join(", ")
      : "not loaded yet";
    return `${position}  (${state?.batches.length ?? 0} batches, ${rows.toLocaleString("en-US")} rows loaded)`;
  },
};
