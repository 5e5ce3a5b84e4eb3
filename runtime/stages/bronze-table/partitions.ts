// A partitioned bronze table: N tasks extract disjoint ranges in parallel (on several instances in
// Azure), each leaving a manifest of the files it uploaded; then the stage's own task commits every
// partition's files and the checkpoint in one state write. The run's plan — schema, checkpoint, upper
// cursor bound and range boundaries — is fixed once, by whichever task gets there first, so all
// partitions agree on what they read.

import type { BronzeTable } from "../../declare/stages.ts";
import { ConfigError, StageError } from "../../errors.ts";
import { crashPoint } from "../../faults.ts";
import { lakePath, PreconditionFailed } from "../../lake/lake.ts";
import { readBronzeState, type SchemaChange } from "../../state/bronze-state.ts";
import type { CursorPosition, RangeSlice, ResourceSchema, SourceColumn } from "../../sources/source.ts";
import { commitBronze } from "./commit.ts";
import { prepareBronzeLoad, stageSlice } from "./schema.ts";
import { scanDeletedKeys, wantsKeyScan } from "./deletes.ts";
import { sweepOrphanBatches } from "./sweep.ts";
import { bronzeRoot, loadDateOf, newLoadId } from "./paths.ts";
import { DEFAULT_CHUNK_ROWS, mergeWarnings } from "./run.ts";
import type { StageContext, StageOutcome } from "../context.ts";

interface PartitionPlan {
  readonly runId: string;
  /** The one batch all partitions' files are committed as. */
  readonly loadId: string;
  readonly schema: ResourceSchema;
  readonly columns: readonly SourceColumn[];
  readonly change?: SchemaChange;
  readonly mode: "full" | "incremental";
  /** Rows after this position (incremental). */
  readonly after?: CursorPosition;
  /** Rows up to this position: the cursor's maximum when the plan was made; the next checkpoint. */
  readonly until?: CursorPosition;
  /** Inner range boundaries, ascending: k points make k + 1 ranges. */
  readonly points: readonly string[];
}

interface PartitionManifest {
  readonly index: number;
  readonly files: readonly string[];
  readonly rows: number;
  readonly bytes: number;
}

const runFolder = (stage: string, runId: string) => lakePath("_mallard", "state", "bronze", `${stage}.runs`, runId);

/** Extract this task's ranges and record what it uploaded; a redelivered task that finished does nothing. */
export async function runBronzePartition(ctx: StageContext<BronzeTable>, partition: { index: number; count: number }): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  const manifestPath = lakePath(runFolder(stage.name, ctx.runId), `part-${partition.index}.json`);
  const done = await lake.readJson<PartitionManifest>(manifestPath);
  if (done) return { rowsIn: done.value.rows, rowsOut: done.value.rows, bytes: done.value.bytes, note: "already extracted" };

  const plan = await partitionPlan(ctx);
  const connector = await ctx.connector(stage.source);
  const slice = stageSlice(stage, connector, plan.schema, plan.after, plan.until);
  const files: string[] = [];
  let rows = 0;
  let bytes = 0;
  let part = 0;
  const warnings: string[] = [];
  const loadDate = loadDateOf(plan.loadId);
  for (const range of rangesOf(plan, stage, partition)) {
    const chunks = connector.read({
      schema: plan.schema,
      slice,
      range,
      chunkRows: stage.source.chunkRows ?? DEFAULT_CHUNK_ROWS,
      workDir: ctx.engine.workDir,
    }, ctx.engine);
    for await (const chunk of chunks) {
      warnings.push(...chunk.warnings ?? []);
      if (chunk.rows === 0) continue;
      const path = lakePath(bronzeRoot(stage), `load_date=${loadDate}`, `${plan.loadId}-p${partition.index}-${String(part++).padStart(5, "0")}.parquet`);
      const object = await lake.putFile(chunk.file, path);
      crashPoint("bronze:{stage}:after-upload:{chunk}", { stage: `${stage.name}#${partition.index}`, chunk: part });
      files.push(path);
      rows += chunk.rows;
      bytes += object.size;
    }
  }
  await lake.writeJson(manifestPath, { index: partition.index, files, rows, bytes } satisfies PartitionManifest);
  ctx.log(`${stage.name}#${partition.index}: extracted ${rows.toLocaleString("en-US")} rows`);
  return { rowsIn: rows, rowsOut: rows, bytes, note: mergeWarnings(warnings).join("; ") || undefined };
}

/** Commit every partition's files as one batch, with the checkpoint, in one state write. */
export async function commitBronzePartitions(ctx: StageContext<BronzeTable>, count: number): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  const plan = (await lake.readJson<PartitionPlan>(lakePath(runFolder(stage.name, ctx.runId), "plan.json")))?.value;
  // Taken over after it committed (and removed the plan): report what it committed instead of failing.
  const committed = plan ? undefined : (await readBronzeState(lake, stage.name)).state?.batches.find((b) => b.runId === ctx.runId);
  if (committed) {
    return {
      rowsIn: committed.rows, rowsOut: committed.rows, bytes: committed.bytes,
      checkpointAfter: stage.incremental ? committed.checkpointAfter ?? null : null, note: `${count} partitions, already committed`,
    };
  }
  if (!plan) throw new StageError(`stage "${stage.name}": no partition plan for run ${ctx.runId}; its partition tasks have not run`);
  const manifests: PartitionManifest[] = [];
  for (let index = 0; index < count; index++) {
    const found = await lake.readJson<PartitionManifest>(lakePath(runFolder(stage.name, ctx.runId), `part-${index}.json`));
    if (!found) throw new StageError(`stage "${stage.name}": partition ${index} of run ${ctx.runId} has not finished`);
    manifests.push(found.value);
  }
  const rows = manifests.reduce((n, m) => n + m.rows, 0);
  const bytes = manifests.reduce((n, m) => n + m.bytes, 0);
  const before = (await readBronzeState(lake, stage.name)).state?.checkpoint;
  const state = await commitBronze(ctx, {
    batches: [{
      loadId: plan.loadId, runId: ctx.runId, mode: plan.mode, files: manifests.flatMap((m) => m.files), rows, bytes,
      committedAt: new Date().toISOString(), checkpointAfter: plan.until,
    }],
    columns: plan.columns,
    change: plan.change,
    // A full load restarts the checkpoint at what it read (none for an empty table); an incremental load
    // that found nothing keeps the one it started from.
    checkpoint: !stage.incremental ? undefined : plan.mode === "full" ? plan.until : plan.until ?? plan.after,
    expected: plan.mode === "incremental" ? { checkpoint: plan.after } : undefined,
  });
  // The run's plan and manifests have done their job; files of abandoned partition runs go after the grace period.
  for await (const object of lake.list(runFolder(stage.name, ctx.runId))) await lake.delete(object.path);
  await sweepOrphanBatches(lake, stage, state);
  const deleted = wantsKeyScan(stage, { fullRefresh: plan.mode === "full", loadedBefore: true })
    ? await scanDeletedKeys(ctx, await ctx.connector(stage.source), plan.schema)
    : undefined;
  return {
    rowsIn: rows, rowsOut: rows, bytes,
    checkpointBefore: before ?? null,
    checkpointAfter: stage.incremental ? state.checkpoint ?? null : null,
    note: `${count} partitions${deleted ? `; ${deleted.toLocaleString("en-US")} keys deleted in the source: tombstones written` : ""}`,
  };
}

/** The run's plan: read it, or make it and write it only if no other task did first. */
async function partitionPlan(ctx: StageContext<BronzeTable>): Promise<PartitionPlan> {
  const { stage, lake } = ctx;
  const path = lakePath(runFolder(stage.name, ctx.runId), "plan.json");
  const existing = await lake.readJson<PartitionPlan>(path);
  if (existing) return existing.value;
  const { connector, schema, evolution, after } = await prepareBronzeLoad(ctx);
  const partitioning = stage.partitions!;
  const partitioner = connector.partitioner;
  if (!partitioner) throw new ConfigError([`stage "${stage.name}": partitions: ${connector.where} cannot split a resource into ranges`]);
  const plan: PartitionPlan = {
    runId: ctx.runId,
    loadId: newLoadId(),
    schema,
    columns: evolution.columns,
    change: evolution.change,
    mode: after ? "incremental" : "full",
    after,
    until: stage.incremental ? await partitioner.cursorMax(schema, stage.incremental.cursor) : undefined,
    points: await partitioner.splitPoints(schema, partitioning.column,
      partitioning.kind === "chunks" ? { count: partitioning.count } : { step: partitioning.step }),
  };
  try {
    await lake.writeJson(path, plan, { ifMatch: null });
    return plan;
  } catch (e) {
    if (!(e instanceof PreconditionFailed)) throw e;
    return (await lake.readJson<PartitionPlan>(path))!.value;
  }
}

/** Ranges of one task: range j of the plan goes to task j mod count; NULL keys go with range 0. */
function rangesOf(plan: PartitionPlan, stage: BronzeTable, partition: { index: number; count: number }): RangeSlice[] {
  const column = stage.partitions!.column;
  const bounds = [undefined, ...plan.points, undefined];
  const ranges: RangeSlice[] = [];
  for (let j = partition.index; j < bounds.length - 1; j += partition.count) {
    ranges.push({ column, from: bounds[j], to: bounds[j + 1], includeNulls: j === 0 });
  }
  return ranges;
}
