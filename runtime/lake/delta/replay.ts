// Log replay (PROTOCOL.md, "Action Reconciliation"): a table's snapshot at a version is its newest
// checkpoint at or before that version plus every commit after it, applied in order. Time travel picks
// the version first (by number, or the newest commit at or before a timestamp).

import type { DuckDBConnection } from "@duckdb/node-api";
import pLimit from "p-limit";
import type { Lake } from "../lake.ts";
import { type AddFile, commitPath, type CommitInfo, type Metadata, parseCommit, type Protocol, type RemoveFile, type Txn } from "./actions.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { commitTimestamps, listLog, type LogFiles } from "./log-files.ts";
import { assertReadable, DeltaError } from "./protocol.ts";
import { type DeltaStruct, parseSchema } from "./schema.ts";

/** The reconciled state of a table: what a checkpoint holds. */
export interface TableState {
  protocol?: Protocol;
  metadata?: Metadata;
  /** Live files by path. */
  readonly files: Map<string, AddFile>;
  /** Removed files by path, for vacuum. */
  readonly tombstones: Map<string, RemoveFile>;
  /** Application progress by app id. */
  readonly txns: Map<string, Txn>;
  /** A file with a deletion vector was seen: only a reader of deletion vectors may read this table. */
  deletionVectors?: string;
}

export interface Snapshot {
  readonly root: string;
  readonly version: number;
  readonly protocol: Protocol;
  readonly metadata: Metadata;
  readonly schema: DeltaStruct;
  readonly files: ReadonlyMap<string, AddFile>;
  readonly tombstones: ReadonlyMap<string, RemoveFile>;
  readonly txns: ReadonlyMap<string, Txn>;
  /** When `version` was committed (ms since the epoch). */
  readonly timestamp: number;
  /** The `commitInfo` of `version`, when its commit file has one. */
  readonly commitInfo?: CommitInfo;
  /** The log as listed when this snapshot was read. */
  readonly log: LogFiles;
}

/** Which version to read: the latest, a version number, or the newest version committed at or before a time. */
export type AsOf = { readonly version: number } | { readonly timestamp: number } | undefined;

export function emptyState(): TableState {
  return { files: new Map(), tombstones: new Map(), txns: new Map() };
}

/** Apply one version's actions (or a checkpoint's) to `state`; returns the commitInfo, if any. */
export function applyActions(state: TableState, actions: readonly Record<string, unknown>[], where: string): CommitInfo | undefined {
  let info: CommitInfo | undefined;
  for (const action of actions) {
    if (action.add) {
      const add = stripNulls(action.add) as unknown as AddFile;
      if (add.deletionVector) state.deletionVectors ??= `${where}: file ${add.path} has a deletion vector, which Mallard does not read`;
      state.files.set(add.path, add);
      state.tombstones.delete(add.path);
    } else if (action.remove) {
      const remove = stripNulls(action.remove) as unknown as RemoveFile;
      state.files.delete(remove.path);
      state.tombstones.set(remove.path, remove);
    } else if (action.metaData) {
      state.metadata = stripNulls(action.metaData) as unknown as Metadata;
    } else if (action.protocol) {
      state.protocol = stripNulls(action.protocol) as unknown as Protocol;
    } else if (action.txn) {
      const txn = action.txn as Txn;
      state.txns.set(txn.appId, txn);
    } else if (action.commitInfo) {
      info = action.commitInfo as CommitInfo;
    }
    // cdc, domainMetadata, checkpointMetadata and unknown actions do not change what a reader sees.
  }
  return info;
}

/**
 * The table's snapshot at `asOf` (default: latest), or undefined when the folder holds no Delta table.
 * Refuses tables whose reader features Mallard does not implement.
 */
export async function loadSnapshot(lake: Lake, con: DuckDBConnection, root: string, asOf?: AsOf): Promise<Snapshot | undefined> {
  const log = await listLog(lake, root);
  if (log.commits.size === 0 && log.checkpoints.length === 0) return undefined;
  const latest = Math.max(-1, ...log.commits.keys(), ...log.checkpoints.map((c) => c.version));
  const version = pickVersion(root, log, latest, asOf);
  const checkpoint = log.checkpoints.find((c) => c.version <= version);
  const state = emptyState();
  let from = 0;
  if (checkpoint) {
    applyActions(state, await readCheckpoint(lake, con, root, checkpoint), `${root} checkpoint ${checkpoint.version}`);
    from = checkpoint.version + 1;
  }
  const info = await applyCommits(lake, root, log, state, from, version);
  return toSnapshot(root, version, state, log, info ?? (checkpoint?.version === version ? await commitInfoOf(lake, root, log, version) : undefined));
}

/** `snapshot` moved to the latest version by applying the commits after it (no checkpoint re-read). */
export async function updateSnapshot(lake: Lake, snapshot: Snapshot): Promise<Snapshot> {
  const log = await listLog(lake, snapshot.root);
  const latest = Math.max(snapshot.version, ...log.commits.keys());
  if (latest === snapshot.version) return { ...snapshot, log };
  const state: TableState = {
    protocol: snapshot.protocol,
    metadata: snapshot.metadata,
    files: new Map(snapshot.files),
    tombstones: new Map(snapshot.tombstones),
    txns: new Map(snapshot.txns),
  };
  const info = await applyCommits(lake, snapshot.root, log, state, snapshot.version + 1, latest);
  return toSnapshot(snapshot.root, latest, state, log, info);
}

async function applyCommits(lake: Lake, root: string, log: LogFiles, state: TableState, from: number, to: number): Promise<CommitInfo | undefined> {
  for (let v = from; v <= to; v++) {
    if (!log.commits.has(v)) {
      throw new DeltaError(v < to && log.commits.has(to)
        ? `${root}: the Delta log is missing version ${v} (versions must be contiguous)`
        : `${root}: version ${v} of the Delta log is not readable (no commit file and no checkpoint covers it)`);
    }
  }
  const limit = pLimit(8);
  const texts = await Promise.all(
    Array.from({ length: to - from + 1 }, (_, i) => limit(async () => (await lake.readText(commitPath(root, from + i)))?.value)),
  );
  let info: CommitInfo | undefined;
  for (const [i, text] of texts.entries()) {
    if (text === undefined) throw new DeltaError(`${root}: commit ${from + i} vanished while it was being read`);
    info = applyActions(state, parseCommit(text, `${root} version ${from + i}`), `${root} version ${from + i}`);
  }
  return info;
}

function pickVersion(root: string, log: LogFiles, latest: number, asOf: AsOf): number {
  const earliest = Math.min(...log.commits.keys(), ...log.checkpoints.map((c) => c.version));
  if (asOf === undefined) return latest;
  if ("version" in asOf) {
    if (!Number.isInteger(asOf.version) || asOf.version < 0 || asOf.version > latest) {
      throw new DeltaError(`${root}: there is no version ${asOf.version} (versions ${earliest}–${latest})`);
    }
    return asOf.version;
  }
  const stamps = commitTimestamps(log);
  let found: number | undefined;
  for (const [v, t] of stamps) if (t <= asOf.timestamp) found = v;
  if (found === undefined) {
    throw new DeltaError(`${root}: no version was committed at or before ${new Date(asOf.timestamp).toISOString()} (the first was at ${new Date(stamps.get(Math.min(...stamps.keys())) ?? 0).toISOString()})`);
  }
  return found;
}

/** The snapshot after committing `actions` as `version` on top of `base` (without reading the log back). */
export function advanceSnapshot(root: string, base: Snapshot | undefined, version: number, actions: readonly Record<string, unknown>[], committedAt: number): Snapshot {
  const state: TableState = base
    ? { protocol: base.protocol, metadata: base.metadata, files: new Map(base.files), tombstones: new Map(base.tombstones), txns: new Map(base.txns) }
    : emptyState();
  const info = applyActions(state, actions, `${root} version ${version}`);
  const commits = new Map(base?.log.commits ?? []);
  commits.set(version, { path: commitPath(root, version), size: 0, modified: committedAt });
  return toSnapshot(root, version, state, { commits, checkpoints: base?.log.checkpoints ?? [] }, info);
}

/** The reconciled state behind a snapshot (shared, not copied: do not change it). */
export function stateOf(snapshot: Snapshot): TableState {
  return { protocol: snapshot.protocol, metadata: snapshot.metadata, files: snapshot.files as Map<string, AddFile>, tombstones: snapshot.tombstones as Map<string, RemoveFile>, txns: snapshot.txns as Map<string, Txn> };
}

function toSnapshot(root: string, version: number, state: TableState, log: LogFiles, commitInfo: CommitInfo | undefined): Snapshot {
  if (!state.protocol || !state.metadata) throw new DeltaError(`${root}: the Delta log has no ${state.protocol ? "metaData" : "protocol"} action up to version ${version}`);
  assertReadable(root, state.protocol, state.metadata);
  if (state.deletionVectors) throw new DeltaError(state.deletionVectors);
  let schema: DeltaStruct;
  try {
    schema = parseSchema(state.metadata.schemaString);
  } catch (e) {
    throw new DeltaError(`${root}: metaData.schemaString is not a Delta schema (${(e as Error).message})`);
  }
  return {
    root,
    version,
    protocol: state.protocol,
    metadata: state.metadata,
    schema,
    files: state.files,
    tombstones: state.tombstones,
    txns: state.txns,
    timestamp: commitTimestamps(log).get(version) ?? log.commits.get(version)?.modified ?? 0,
    commitInfo,
    log,
  };
}

async function commitInfoOf(lake: Lake, root: string, log: LogFiles, version: number): Promise<CommitInfo | undefined> {
  if (!log.commits.has(version)) return undefined;
  const text = (await lake.readText(commitPath(root, version)))?.value ?? "";
  return parseCommit(text, `${root} version ${version}`).find((a) => a.commitInfo)?.commitInfo as CommitInfo | undefined;
}

/** JSON nulls (a checkpoint's empty struct fields) read as absent. */
function stripNulls(value: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null));
}
