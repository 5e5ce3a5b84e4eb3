// A partitioned bronze table: N tasks extract disjoint ranges in parallel (on several instances in
// Azure), each recording its progress after every chunk (a killed task resumes, re-reading only what it
// had not recorded) and a manifest of the files it uploaded; then the stage's own task commits every
// partition's files and the checkpoint in one state write. The run's plan — schema, checkpoint, upper
// cursor bound and range boundaries — is fixed once, by whichever task gets there first, so all
// partitions agree on what they read.

import type { BronzeTable } from "../../declare/stages.ts";
import { ConfigError, StageError } from "../../errors.ts";
import { crashPoint } from "../../faults.ts";
import { lakePath, PreconditionFailed } from "../../lake/lake.ts";
import { type AddFile, dataFilePath } from "../../lake/delta/actions.ts";
import { uploadBronzeFile } from "../../state/bronze-files.ts";
import type { SchemaChange } from "../../state/bronze-state.ts";
import type { CursorPosition, RangeSlice, ResourceSchema, SourceColumn } from "../../sources/source.ts";
import { reconcileIfDue } from "../../reconcile/due.ts";
import { commitBronze } from "./commit.ts";
import { prepareBronzeLoad, stageSlice } from "./schema.ts";
import { scanDeletedKeys, wantsKeyScan } from "./deletes.ts";
import { bronzeRootOf, readBronze } from "./state.ts";
import { sweepOrphanBatches } from "./sweep.ts";
import { loadDateOf, newLoadId } from "./paths.ts";
import { DEFAULT_CHUNK_ROWS, mergeWarnings, schemaNotes } from "./run.ts";
import { cursorSlice } from "../../sources/incremental.ts";
import type { StageContext, StageOutcome } from "../context.ts";

interface PartitionPlan {
  readonly runId: string;
  /** The one batch all partitions' files are committed as. */
  readonly loadId: string;
  readonly schema: ResourceSchema;
  readonly columns: readonly SourceColumn[];
  readonly dropped?: readonly string[];
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
  /** The `add` actions of the files it uploaded (stats read where each file was written). */
  readonly files: readonly AddFile[];
  readonly rows: number;
  readonly bytes: number;
  /** Values the source changed to store them, for the run record. */
  readonly warnings?: readonly string[];
}

/**
 * A partition task's progress, written after every chunk it uploads, so a killed task resumes where it
 * stopped: after its finished ranges and, in the range it was in, after the last chunk's cursor position
 * (an incremental read comes in cursor order) or from the range's start (a full read has no order).
 */
interface PartitionProgress {
  /** Ranges of this task done; their files (`add` actions) are in `files`. */
  readonly ranges: number;
  readonly files: readonly AddFile[];
  readonly rows: number;
  readonly bytes: number;
  /** Files numbered so far (new uploads take the next numbers, so none overwrites a recorded file). */
  readonly parts: number;
  readonly warnings: readonly string[];
  /** The range in progress: what it uploaded and the position that reaches (undefined: not resumable). */
  readonly current?: { readonly files: readonly AddFile[]; readonly rows: number; readonly bytes: number; readonly position?: CursorPosition };
}

const runFolder = (stage: string, runId: string) => lakePath("_mallard", "state", "bronze", `${stage}.runs`, runId);

/** Ranges a `chunks` task's share is cut into, so a killed full-load task re-reads a quarter of its rows at most. */
const SUBRANGES = 4;

/** Extract this task's ranges and record what it uploaded; a redelivered task resumes, or does nothing when it finished. */
export async function runBronzePartition(ctx: StageContext<BronzeTable>, partition: { index: number; count: number }): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  const root = await bronzeRootOf(ctx);
  const manifestPath = lakePath(runFolder(stage.name, ctx.runId), `part-${partition.index}.json`);
  const progressPath = lakePath(runFolder(stage.name, ctx.runId), `part-${partition.index}.progress.json`);
  const done = await lake.readJson<PartitionManifest>(manifestPath);
  if (done) return { rowsIn: done.value.rows, rowsOut: done.value.rows, bytes: done.value.bytes, note: "already extracted" };

  const plan = await partitionPlan(ctx);
  const connector = await ctx.connector(stage.source);
  const slice = stageSlice(stage, connector, plan.schema, plan.after, plan.until);
  const found = (await lake.readJson<PartitionProgress>(progressPath))?.value;
  let progress: PartitionProgress = found ?? { ranges: 0, files: [], rows: 0, bytes: 0, parts: 0, warnings: [] };
  const resumedAfter = found ? found.rows + (found.current?.position ? found.current.rows : 0) : 0;
  let read = 0;
  // Progress: this partition's rows as the source delivers them (a resumed task counts what it had), no total.
  let delivered = resumedAfter;
  const onRows = ctx.progress && ((n: number) => ctx.progress!({ rows: (delivered += n) }));
  const loadDate = loadDateOf(plan.loadId);
  const ranges = rangesOf(plan, stage, partition);
  for (let r = progress.ranges; r < ranges.length; r++) {
    // Resume inside the range after the last recorded chunk's position (no look-back: those rows are in);
    // without a position its recorded files are dropped (orphans the sweep removes) and the range is re-read.
    const resume = progress.current?.position && stage.incremental ? progress.current : undefined;
    let current: NonNullable<PartitionProgress["current"]> = resume ?? { files: [], rows: 0, bytes: 0 };
    const rangeSlice = resume && stage.incremental
      ? cursorSlice(plan.schema, { columns: stage.incremental.cursor }, resume.position, plan.until, (c) => connector.refuseCursor?.(c))
      : slice;
    const chunks = connector.read({
      schema: plan.schema,
      slice: rangeSlice,
      range: ranges[r],
      chunkRows: stage.source.chunkRows ?? DEFAULT_CHUNK_ROWS,
      workDir: ctx.engine.workDir,
      onRows,
    }, ctx.engine);
    for await (const chunk of chunks) {
      if (chunk.warnings?.length) progress = { ...progress, warnings: [...progress.warnings, ...chunk.warnings] };
      if (chunk.rows === 0) continue;
      const part = progress.parts;
      const name = `${plan.loadId}-p${partition.index}-${String(part).padStart(5, "0")}.parquet`;
      const add = await ctx.engine.withConnection((con) =>
        uploadBronzeFile(lake, con, root, plan.columns, { localFile: chunk.file, loadId: plan.loadId, loadDate, name, deletes: stage.deletes !== undefined }));
      crashPoint("bronze:{stage}:after-upload:{chunk}", { stage: `${stage.name}#${partition.index}`, chunk: part + 1 });
      read += chunk.rows;
      // A source that does not report rows as they arrive reports them here, a chunk at a time.
      if (ctx.progress && delivered < resumedAfter + read) ctx.progress({ rows: (delivered = resumedAfter + read) });
      current = { files: [...current.files, add], rows: current.rows + chunk.rows, bytes: current.bytes + add.size, position: chunk.lastCursor };
      progress = { ...progress, parts: part + 1, current };
      await lake.writeJson(progressPath, progress);
    }
    progress = {
      ...progress, ranges: r + 1, files: [...progress.files, ...current.files], rows: progress.rows + current.rows,
      bytes: progress.bytes + current.bytes, current: undefined,
    };
    // A range that delivered nothing is not worth a write (a `range` split may have thousands): a resumed
    // task reads it again, for nothing, from the last range that did.
    if (current.files.length) await lake.writeJson(progressPath, progress);
  }
  const { files, rows, bytes, warnings } = progress;
  await lake.writeJson(manifestPath, { index: partition.index, files, rows, bytes, ...(warnings.length ? { warnings } : {}) } satisfies PartitionManifest);
  ctx.log(`${stage.name}#${partition.index}: extracted ${rows.toLocaleString("en-US")} rows`);
  const note = [
    ...(found ? [`resumed: ${resumedAfter.toLocaleString("en-US")} rows already extracted, ${read.toLocaleString("en-US")} read`] : []),
    ...mergeWarnings(warnings),
  ].join("; ");
  return { rowsIn: rows, rowsOut: rows, bytes, ...(note ? { note } : {}) };
}

/** Commit every partition's files as one batch, with the checkpoint, in one state write. */
export async function commitBronzePartitions(ctx: StageContext<BronzeTable>, count: number): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  const root = await bronzeRootOf(ctx);
  const plan = (await lake.readJson<PartitionPlan>(lakePath(runFolder(stage.name, ctx.runId), "plan.json")))?.value;
  // Taken over after it committed (and removed the plan): report what it committed instead of failing.
  const committed = plan ? undefined : (await readBronze(ctx)).state?.batches.find((b) => b.runId === ctx.runId);
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
  const before = (await readBronze(ctx)).state?.checkpoint;
  const adds = manifests.flatMap((m) => m.files);
  const state = await commitBronze(ctx, {
    adds,
    batches: [{
      loadId: plan.loadId, runId: ctx.runId, mode: plan.mode, files: adds.map((a) => dataFilePath(root, a.path)), rows, bytes,
      committedAt: new Date().toISOString(), checkpointAfter: plan.until,
    }],
    columns: plan.columns,
    dropped: plan.dropped,
    change: plan.change,
    // A full load restarts the checkpoint at what it read (none for an empty table); an incremental load
    // that found nothing keeps the one it started from.
    checkpoint: !stage.incremental ? undefined : plan.mode === "full" ? plan.until : plan.until ?? plan.after,
    expected: plan.mode === "incremental" ? { checkpoint: plan.after } : undefined,
  });
  // The run's plan and manifests have done their job; files of abandoned partition runs go after the grace period.
  for await (const object of lake.list(runFolder(stage.name, ctx.runId))) await lake.delete(object.path);
  await sweepOrphanBatches(lake, root, (await readBronze(ctx)).snapshot);
  const deleted = wantsKeyScan(stage, { fullRefresh: plan.mode === "full", loadedBefore: true })
    ? await scanDeletedKeys(ctx, await ctx.connector(stage.source), plan.schema)
    : undefined;
  const reconciliation = await reconcileIfDue(ctx, await ctx.connector(stage.source), plan.schema);
  return {
    rowsIn: rows, rowsOut: rows, bytes,
    ...(reconciliation ? { reconciliation } : {}),
    checkpointBefore: before ?? null,
    checkpointAfter: stage.incremental ? state.checkpoint ?? null : null,
    note: [
      `${count} partitions`, ...schemaNotes(plan.change), ...mergeWarnings(manifests.flatMap((m) => m.warnings ?? [])),
      ...(deleted ? [`${deleted.toLocaleString("en-US")} keys deleted in the source: tombstones written`] : []),
    ].join("; "),
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
    dropped: evolution.dropped,
    change: evolution.change,
    mode: after ? "incremental" : "full",
    after,
    until: stage.incremental ? await partitioner.cursorMax(schema, stage.incremental.cursor) : undefined,
    points: await partitioner.splitPoints(schema, partitioning.column,
      partitioning.kind === "chunks" ? { count: partitioning.count * SUBRANGES } : { step: partitioning.step }),
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
