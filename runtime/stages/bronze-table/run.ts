// Run a bronze table: extract new rows (or all rows) from its source into Parquet batches and commit
// each batch to the lake together with the checkpoint it reaches. Nothing lost, nothing doubled:
// the checkpoint only moves in the same atomic state write that makes the batch visible.

import type { BronzeTable } from "../../declare/stages.ts";
import { crashPoint } from "../../faults.ts";
import { type AddFile, dataFilePath } from "../../lake/delta/actions.ts";
import { uploadBronzeFile } from "../../state/bronze-files.ts";
import { type BronzeBatch, currentBatches, type SchemaChange } from "../../state/bronze-state.ts";
import type { CursorPosition, FileLedger } from "../../sources/source.ts";
import type { StageContext, StageOutcome } from "../context.ts";
import { reconcileIfDue } from "../../reconcile/due.ts";
import { commitBronze } from "./commit.ts";
import { scanDeletedKeys, wantsKeyScan } from "./deletes.ts";
import { bronzeRootOf, readBronze } from "./state.ts";
import { sweepOrphanBatches } from "./sweep.ts";
import { loadDateOf, newLoadId } from "./paths.ts";
import { isIncremental, prepareBronzeLoad, stageSlice } from "./schema.ts";

export const DEFAULT_CHUNK_ROWS = 1_000_000;

export async function runBronzeTable(ctx: StageContext<BronzeTable>): Promise<StageOutcome> {
  const { stage, lake } = ctx;
  const { connector, schema, state, snapshot, evolution, after: before } = await prepareBronzeLoad(ctx);
  if (schema.settling && stage.resource.kind === "files" && stage.resource.load === "full") {
    // A full load replaces the table with what the files hold: with a file still settling, that snapshot
    // would lack its rows, so the table keeps its last snapshot until every file has settled.
    return {
      rowsIn: 0, rowsOut: 0, bytes: 0, checkpointBefore: null, checkpointAfter: null, settling: schema.settling.files,
      note: `${settlingNote(schema.settling)}; a full load waits for every file, so the table keeps its last snapshot`,
    };
  }
  const slice = stageSlice(stage, connector, schema, before);
  const changes = schemaNotes(evolution.change);
  const root = await bronzeRootOf(ctx);
  await sweepOrphanBatches(lake, root, snapshot);

  const incremental = isIncremental(stage) && !ctx.fullRefresh;
  // The first load of an incremental table commits chunk by chunk (resumable); a full load or a full
  // refresh commits all its chunks at once, so readers never see half a snapshot.
  const commitEachChunk = incremental;
  const pending: BronzeBatch[] = [];
  const pendingAdds: AddFile[] = [];
  let rows = 0;
  let bytes = 0;
  let checkpoint: CursorPosition | undefined = before;
  // A file drop's checkpoint is its ledger: the one committed, and the one the chunks read so far reach.
  let committedLedger: FileLedger | undefined = state?.ledger ?? (schema.ledger && []);
  let ledger = schema.ledger;
  const rejected: string[] = [];
  const warnings: string[] = [];
  const fresh = schema.ledger ? state?.ledger === undefined : !before;
  let first = true;
  const loadId = newLoadId();
  const loadDate = loadDateOf(loadId);
  // Progress: rows as the source delivers them; the catalog's estimate of the total only when the whole table is read.
  const total = ctx.progress && !slice?.after ? await connector.estimateRows?.(schema).catch(() => undefined) : undefined;
  let read = 0;
  const onRows = ctx.progress && ((n: number) => ctx.progress!({ rows: (read += n), total }));
  const chunks = connector.read({ schema, slice, chunkRows: stage.source.chunkRows ?? DEFAULT_CHUNK_ROWS, workDir: ctx.engine.workDir, onRows }, ctx.engine);
  let part = 0;
  for await (const chunk of chunks) {
    for (const r of chunk.rejected ?? []) rejected.push(`file ${r.path}: ${r.reason}${r.movedTo ? ` (moved to ${r.movedTo})` : ""}`);
    if (chunk.ledger) ledger = chunk.ledger;
    warnings.push(...chunk.warnings ?? []);
    if (chunk.rows === 0) continue;
    const batchId = `${loadId}-${String(part++).padStart(5, "0")}`;
    const add = await ctx.engine.withConnection((con) =>
      uploadBronzeFile(lake, con, root, evolution.columns, { localFile: chunk.file, loadId: batchId, loadDate, name: `${batchId}.parquet`, deletes: stage.deletes !== undefined }));
    const path = dataFilePath(root, add.path);
    crashPoint("bronze:{stage}:after-upload:{chunk}", { stage: stage.name, chunk: part });
    rows += chunk.rows;
    bytes += add.size;
    // A source that does not report rows as they arrive reports them here, a chunk at a time.
    if (ctx.progress && read < rows) ctx.progress({ rows: (read = rows), total });
    const batch: BronzeBatch = {
      loadId: batchId,
      runId: ctx.runId,
      // Chunk by chunk, the first chunk of a load with no checkpoint starts the table afresh for readers
      // (older full snapshots stop counting); a full load's chunks are merged into one full batch below.
      mode: commitEachChunk && !(first && fresh) ? "incremental" : "full",
      files: [path],
      rows: chunk.rows,
      bytes: add.size,
      committedAt: new Date().toISOString(),
      checkpointAfter: chunk.lastCursor,
    };
    const committedBefore = checkpoint;
    if (chunk.lastCursor) checkpoint = chunk.lastCursor;
    if (commitEachChunk) {
      await commitBronze(ctx, {
        batches: [batch], adds: [add], columns: evolution.columns, dropped: evolution.dropped, change: evolution.change, checkpoint, ledger,
        expected: { checkpoint: committedBefore, ledger: committedLedger },
      });
      committedLedger = ledger;
      crashPoint("bronze:{stage}:after-commit:{chunk}", { stage: stage.name, chunk: part });
      evolution.change = undefined;
      ctx.log(`${stage.name}: committed ${rows.toLocaleString()} rows`);
    } else {
      pending.push(batch);
      pendingAdds.push(add);
    }
    first = false;
  }
  if (!commitEachChunk) {
    // One full batch of all chunks: a reader sees the whole new snapshot or the old one.
    const merged: BronzeBatch[] = pending.length
      ? [{ ...pending[0], mode: "full", files: pending.flatMap((b) => b.files), rows, bytes, checkpointAfter: checkpoint }]
      : [{ loadId: `${loadId}-00000`, runId: ctx.runId, mode: "full", files: [], rows: 0, bytes: 0, committedAt: new Date().toISOString() }];
    await commitBronze(ctx, {
      batches: merged, adds: pendingAdds, columns: evolution.columns, dropped: evolution.dropped, change: evolution.change,
      checkpoint: stage.incremental ? checkpoint : undefined, ledger,
    });
  } else if (evolution.change || !state || ledger !== committedLedger) {
    // Schema only (nothing new, the first load's schema, or files that held no rows): the checkpoint is what this load last committed.
    await commitBronze(ctx, { batches: [], adds: [], columns: evolution.columns, dropped: evolution.dropped, change: evolution.change, checkpoint, ledger, expected: { checkpoint, ledger: committedLedger } });
  }
  const outcome = await committedByRun(ctx, { rows, bytes, before });
  const settling = schema.settling;
  const deleted = wantsKeyScan(stage, { fullRefresh: ctx.fullRefresh, loadedBefore: state !== undefined }) ? await scanDeletedKeys(ctx, connector, schema) : undefined;
  const reconciliation = await reconcileIfDue(ctx, connector, schema);
  return {
    ...outcome,
    ...(reconciliation ? { reconciliation } : {}),
    checkpointAfter: stage.incremental ? checkpoint ?? null : null,
    ...(settling ? { settling: settling.files } : {}),
    note: [
      ...changes, ...rejected, ...mergeWarnings(warnings),
      ...(settling ? [settlingNote(settling)] : []),
      ...(deleted ? [`${deleted.toLocaleString("en-US")} keys deleted in the source: tombstones written`] : []),
    ].join("; ") || undefined,
  };
}

/** `2 files changed in the last 30 s left to settle: the next run takes them` */
export function settlingNote(settling: { files: number; seconds: number }): string {
  const files = settling.files === 1 ? "1 file" : `${settling.files.toLocaleString("en-US")} files`;
  return `${files} changed in the last ${settling.seconds} s left to settle (settle: "${settling.seconds} seconds"): the next run takes ${settling.files === 1 ? "it" : "them"}`;
}

/** Chunks' warnings for the run record, counts of the same warning added up: `amount: 2 NaN values stored as NULL`. */
export function mergeWarnings(warnings: readonly string[]): string[] {
  const counts = new Map<string, number>();
  const order: string[] = [];
  for (const warning of warnings) {
    const m = /^(.*?: )(\d+)( .*)$/.exec(warning);
    const key = m ? `${m[1]}\0${m[3]}` : warning;
    if (!counts.has(key)) order.push(key);
    counts.set(key, (counts.get(key) ?? 0) + (m ? Number(m[2]) : 0));
  }
  return order.map((key) => (key.includes("\0") ? key.replace("\0", String(counts.get(key))) : key));
}

/** What a run says about the schema change it committed. */
export function schemaNotes(change: SchemaChange | undefined): string[] {
  const added = change?.added.map((c) => c.name) ?? [];
  const dropped = change?.dropped ?? [];
  return [
    ...(added.length ? [`new columns: ${added.join(", ")}`] : []),
    ...(dropped.length ? [`columns dropped in the source: ${dropped.join(", ")} (kept in __history; NULL in the latest rows)`] : []),
  ];
}

/**
 * What this run committed to the table, all its attempts together: a task taken over after a crash
 * resumes after the chunks its first attempt committed, and its record must count those too (not only
 * the rows the takeover found left to load).
 */
async function committedByRun(
  ctx: StageContext<BronzeTable>,
  attempt: { rows: number; bytes: number; before: CursorPosition | undefined },
): Promise<Pick<StageOutcome, "rowsIn" | "rowsOut" | "bytes" | "checkpointBefore">> {
  const batches = currentBatches((await readBronze(ctx)).state);
  const first = batches.findIndex((b) => b.runId === ctx.runId);
  const mine = first === -1 ? [] : batches.slice(first).filter((b) => b.runId === ctx.runId && !b.deletes);
  const rows = mine.reduce((n, b) => n + b.rows, 0);
  if (rows <= attempt.rows) return { rowsIn: attempt.rows, rowsOut: attempt.rows, bytes: attempt.bytes, checkpointBefore: attempt.before ?? null };
  return {
    rowsIn: rows, rowsOut: rows, bytes: mine.reduce((n, b) => n + b.bytes, 0),
    checkpointBefore: (first > 0 ? batches[first - 1].checkpointAfter : undefined) ?? null,
  };
}
