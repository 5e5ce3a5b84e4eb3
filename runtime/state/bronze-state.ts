// A bronze table is a Delta table (partitioned by load date), and its state — schema, checkpoint, file
// ledger and the list of committed batches — is carried by its log: each commit's metaData names an
// immutable state file written just before it (`<table>/_mallard/state/<id>.json`), and a `txn` action
// counts the table's loads. One put-if-absent commit makes a batch's files visible and moves the
// checkpoint together, so the state can never disagree with the log; a crash before the commit leaves
// files and a state file no version names (no reader sees them, the sweep and vacuum remove them).

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { type Lake, lakePath } from "../lake/lake.ts";
import { type Action, type AddFile, dataFilePath } from "../lake/delta/actions.ts";
import { commit, type CommitOutcome } from "../lake/delta/commit.ts";
import { type AsOf, loadSnapshot, type Snapshot } from "../lake/delta/replay.ts";
import { definitionActions, removeAll } from "../lake/delta/write.ts";
import type { CursorPosition, FileLedger, SourceColumn } from "../sources/source.ts";
import { bronzeDeltaSchema } from "./bronze-files.ts";
import { LOAD_DATE_COLUMN } from "../stages/bronze-table/log.ts";

export interface BronzeBatch {
  /** Time-sortable id: batches sort by it, and so by load order. */
  readonly loadId: string;
  readonly runId: string;
  /** A full load replaces what came before it for readers of the current state. */
  readonly mode: "full" | "incremental";
  /** Lake paths of the files the batch added (compaction may have merged them since). */
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
  /** A file source loading new files: the files bronze holds (its checkpoint), moved by the same commit. */
  readonly ledger?: FileLedger;
  readonly batches: readonly BronzeBatch[];
  readonly updatedAt: string;
}

/** metaData.configuration key naming the state file (relative to the table) a version carries. */
export const STATE_KEY = "mallard.bronzeState";

/** `txn` app id whose version counts the table's bronze commits (Delta's idempotent-writes marker). */
export const BRONZE_TXN_APP = "mallard.bronze";

/** The state file of the earlier layout (a JSON manifest per stage), converted on first use. */
export function legacyStatePath(stage: string): string {
  return lakePath("_mallard", "state", "bronze", `${stage}.json`);
}

export interface BronzeLog {
  readonly state?: BronzeState;
  /** The table's snapshot the state belongs to (undefined: never committed). */
  readonly snapshot?: Snapshot;
}

/** The bronze table at `root` (its latest version, or one `asOf`), and the state that version carries. */
export async function readBronzeState(lake: Lake, con: DuckDBConnection, root: string, asOf?: AsOf): Promise<BronzeLog> {
  const snapshot = await loadSnapshot(lake, con, root, asOf);
  if (!snapshot) return {};
  return { snapshot, state: await stateOf(lake, snapshot) };
}

/** The state a snapshot's metaData names (undefined for a table no bronze load wrote). */
export async function stateOf(lake: Lake, snapshot: Snapshot): Promise<BronzeState | undefined> {
  const relative = snapshot.metadata.configuration[STATE_KEY];
  if (!relative) return undefined;
  const found = await lake.readJson<BronzeState>(lakePath(snapshot.root, relative));
  if (!found) throw new Error(`${snapshot.root}: version ${snapshot.version} names state file ${relative}, which is missing`);
  return found.value;
}

/** What one bronze commit adds: files already uploaded (see bronze-files.ts) and how the state moves. */
export interface BronzeLogCommit {
  /** The stage's name (recorded in the state). */
  readonly stage: string;
  readonly runId: string;
  /** `add` actions of the uploaded files. */
  readonly adds: readonly AddFile[];
  /** A full load: every file live before it is removed in the same commit. */
  readonly replace: boolean;
  /** The stage has deletes: the table has the deleted-key marker column. */
  readonly deletes?: boolean;
  /**
   * The next state from the current one (undefined: no table yet), or a reason to commit nothing (the
   * batches are already committed). It may throw to stop; it runs again after a lost race.
   */
  readonly change: (current: BronzeState | undefined) => Omit<BronzeState, "updatedAt"> | { readonly unchanged: string };
}

export type BronzeCommitOutcome = { readonly state: BronzeState; readonly version: number; readonly committed: boolean };

/** Commit files and state to the table at `root` in one Delta commit (put-if-absent; retried on a lost race). */
export async function commitBronzeLog(lake: Lake, con: DuckDBConnection, root: string, input: BronzeLogCommit): Promise<BronzeCommitOutcome> {
  const states = new Map<number, BronzeState | undefined>();
  let next: BronzeState | undefined;
  let unchanged: BronzeState | undefined;
  const outcome: CommitOutcome = await commit(lake, con, root, async (snapshot) => {
    const current = snapshot ? (states.get(snapshot.version) ?? (await stateOf(lake, snapshot))) : undefined;
    if (snapshot) states.set(snapshot.version, current);
    const changed = input.change(current);
    if ("unchanged" in changed) {
      unchanged = current;
      return { stepAside: changed.unchanged };
    }
    const now = Date.now();
    next = { ...changed, updatedAt: new Date(now).toISOString() };
    // Written before the commit that names it; a commit that never happens leaves it unnamed.
    const relative = `_mallard/state/${next.batches.length}-${randomUUID()}.json`;
    await lake.writeJson(lakePath(root, relative), next);
    const schema = await bronzeDeltaSchema(con, next.columns, input.deletes);
    const loads = Number(snapshot?.txns.get(BRONZE_TXN_APP)?.version ?? -1) + 1;
    const actions: Action[] = [
      ...definitionActions(snapshot, { schema, partitionColumns: [LOAD_DATE_COLUMN], configuration: { [STATE_KEY]: relative } }, now),
      ...(input.replace ? removeAll(snapshot, now) : []),
      ...input.adds.map((add) => ({ add })),
      { txn: { appId: BRONZE_TXN_APP, version: loads, lastUpdated: now } },
    ];
    return {
      actions,
      operation: snapshot ? "WRITE" : "CREATE TABLE",
      operationParameters: { mode: input.replace ? "Overwrite" : "Append", partitionBy: JSON.stringify([LOAD_DATE_COLUMN]) },
      provenance: { runId: input.runId, stage: input.stage, loads: next.batches.slice(-Math.max(1, input.adds.length)).map((b) => b.loadId) },
    };
  });
  if (outcome.committed) return { state: next!, version: outcome.version, committed: true };
  return { state: unchanged!, version: outcome.snapshot?.version ?? -1, committed: false };
}

/** Lake paths of a snapshot's live files. */
export function liveFiles(snapshot: Snapshot | undefined): string[] {
  return [...(snapshot?.files.keys() ?? [])].map((p) => dataFilePath(snapshot!.root, p));
}

/** Batches a reader of the current state needs: the last full load and every batch after it. */
export function currentBatches(state: BronzeState | undefined): readonly BronzeBatch[] {
  if (!state) return [];
  const sorted = [...state.batches].sort((a, b) => (a.loadId < b.loadId ? -1 : a.loadId > b.loadId ? 1 : 0));
  const lastFull = sorted.map((b) => b.mode).lastIndexOf("full");
  return lastFull === -1 ? sorted : sorted.slice(lastFull);
}
