// A bronze table's state: its schema, its checkpoint and the manifest of committed batches, in one lake
// object. One conditional write commits a batch and moves the checkpoint together, so a crash between
// the Parquet upload and the commit leaves an orphan file that no reader sees (and the sweep removes).

import { type Lake, lakePath, updateJson } from "../lake/lake.ts";
import type { CursorPosition, FileLedger, SourceColumn } from "../sources/source.ts";

export interface BronzeBatch {
  /** Time-sortable id: batches sort by it, and so by load order. */
  readonly loadId: string;
  readonly runId: string;
  /** A full load replaces what came before it for readers of the current state. */
  readonly mode: "full" | "incremental";
  readonly files: readonly string[];
  readonly rows: number;
  readonly bytes: number;
  readonly committedAt: string;
  readonly checkpointAfter?: CursorPosition;
  /** Tombstones of a key scan (`deletes: "keyScan"`): its rows are keys deleted in the source, not loaded rows. */
  readonly deletes?: true;
}

export interface SchemaChange {
  readonly at: string;
  readonly runId: string;
  readonly added: readonly SourceColumn[];
  readonly widened: readonly { column: string; from: string; to: string }[];
  /** Columns the source no longer has: kept in bronze (older batches hold them), NULL in the latest rows. */
  readonly dropped?: readonly string[];
}

export interface BronzeState {
  readonly stage: string;
  /** Bronze columns: every column ever seen, in first-seen order, with its current type. */
  readonly columns: readonly SourceColumn[];
  readonly schemaChanges: readonly SchemaChange[];
  /** Columns of `columns` the source no longer has (see SchemaChange.dropped); back in `columns` when it has them again. */
  readonly dropped?: readonly string[];
  readonly checkpoint?: CursorPosition;
  /** A file source loading new files: the files bronze holds (its checkpoint), moved by the same write. */
  readonly ledger?: FileLedger;
  readonly batches: readonly BronzeBatch[];
  readonly updatedAt: string;
}

export function bronzeStatePath(stage: string): string {
  return lakePath("_mallard", "state", "bronze", `${stage}.json`);
}

export async function readBronzeState(lake: Lake, stage: string): Promise<{ state?: BronzeState; etag: string | null }> {
  const found = await lake.readJson<BronzeState>(bronzeStatePath(stage));
  return { state: found?.value, etag: found ? found.etag : null };
}

/**
 * Apply `change` to the current state and write it only if nobody else wrote in between; on a lost
 * race, re-read and apply again. `change` must be a pure function of the state it is given.
 */
export async function updateBronzeState(
  lake: Lake,
  stage: string,
  change: (current: BronzeState | undefined) => BronzeState,
): Promise<BronzeState> {
  return updateJson<BronzeState>(lake, bronzeStatePath(stage), (current) => ({ ...change(current), updatedAt: new Date().toISOString() }));
}

/** Batches a reader of the current state needs: the last full load and every batch after it. */
export function currentBatches(state: BronzeState | undefined): readonly BronzeBatch[] {
  if (!state) return [];
  const sorted = [...state.batches].sort((a, b) => (a.loadId < b.loadId ? -1 : a.loadId > b.loadId ? 1 : 0));
  const lastFull = sorted.map((b) => b.mode).lastIndexOf("full");
  return lastFull === -1 ? sorted : sorted.slice(lastFull);
}
