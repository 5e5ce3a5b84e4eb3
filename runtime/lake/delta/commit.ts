// Committing to a Delta table: the next version's file is written put-if-absent, so of two writers racing
// for a version exactly one wins. The loser re-reads the log and asks its caller again what to commit
// on top of the new snapshot: the same actions rebased, different ones, or nothing (it steps aside).
// Every N versions the committer also writes a checkpoint.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { crashPoint } from "../../faults.ts";
import { type Lake, PreconditionFailed } from "../lake.ts";
import { type Action, type CommitInfo, commitPath, encodeCommit, type Metadata, type Protocol } from "./actions.ts";
import { writeCheckpoint } from "./checkpoint.ts";
import { assertWritable, DeltaError } from "./protocol.ts";
import { advanceSnapshot, loadSnapshot, type Snapshot, stateOf, updateSnapshot } from "./replay.ts";

export const ENGINE_INFO = "Mallard/0.1.0";

/** Versions between checkpoints when the table does not set `delta.checkpointInterval` (Spark's default). */
export const DEFAULT_CHECKPOINT_INTERVAL = 10;

/** What to commit: the actions (without commitInfo) and what the commit was for. */
export interface CommitRequest {
  readonly actions: readonly Action[];
  /** Spark's operation name, shown by DESCRIBE HISTORY: "WRITE", "CREATE TABLE", "OPTIMIZE", "CONVERT". */
  readonly operation: string;
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  /** Mallard's provenance (run id, input versions), kept in commitInfo.userMetadata as JSON. */
  readonly provenance?: Readonly<Record<string, unknown>>;
}

/** Step aside: nothing is committed, for the reason given. */
export interface StepAside {
  readonly stepAside: string;
}

export type CommitDecision = CommitRequest | StepAside;

export type CommitOutcome =
  | { readonly committed: true; readonly version: number; readonly snapshot: Snapshot }
  | { readonly committed: false; readonly reason: string; readonly snapshot: Snapshot | undefined };

export interface CommitOptions {
  /** Give up after this many lost races. @default 100 */
  readonly maxAttempts?: number;
  readonly now?: () => number;
}

/**
 * Commit what `decide` returns for the table's latest snapshot (undefined: the table does not exist yet).
 * `decide` runs again after every lost race, with the snapshot that won; it must be a pure function of
 * the snapshot it is given.
 */
export async function commit(
  lake: Lake,
  con: DuckDBConnection,
  root: string,
  decide: (snapshot: Snapshot | undefined) => CommitDecision | Promise<CommitDecision>,
  options: CommitOptions = {},
): Promise<CommitOutcome> {
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 100;
  let snapshot = await loadSnapshot(lake, con, root);
  for (let attempt = 1; ; attempt++) {
    const decision = await decide(snapshot);
    if ("stepAside" in decision) return { committed: false, reason: decision.stepAside, snapshot };
    const version = snapshot ? snapshot.version + 1 : 0;
    check(root, snapshot, decision.actions);
    const committedAt = now();
    const actions: Action[] = [{ commitInfo: commitInfoOf(decision, committedAt, snapshot) }, ...decision.actions];
    crashPoint("delta:{table}:before-commit", { table: root });
    try {
      await lake.writeText(commitPath(root, version), encodeCommit(actions), { ifMatch: null });
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) throw e;
      if (attempt >= maxAttempts) throw new DeltaError(`${root}: gave up committing after losing ${attempt} races for the next version`);
      await sleep(Math.floor(Math.random() * 20 * Math.min(attempt, 5)));
      snapshot = snapshot ? await updateSnapshot(lake, snapshot) : await loadSnapshot(lake, con, root);
      continue;
    }
    crashPoint("delta:{table}:after-commit", { table: root });
    const next = advanceSnapshot(root, snapshot, version, actions as Record<string, unknown>[], committedAt);
    await maybeCheckpoint(lake, con, next);
    return { committed: true, version, snapshot: next };
  }
}

/** The protocol's rules for a commit, checked before it is written. */
function check(root: string, snapshot: Snapshot | undefined, actions: readonly Action[]): void {
  const protocol = (actions.find((a) => "protocol" in a) as { protocol: Protocol } | undefined)?.protocol ?? snapshot?.protocol;
  const metadata = (actions.find((a) => "metaData" in a) as { metaData: Metadata } | undefined)?.metaData ?? snapshot?.metadata;
  if (!protocol || !metadata) throw new DeltaError(`${root}: the first commit of a table must carry protocol and metaData`);
  assertWritable(root, protocol, metadata);
  const paths = new Set<string>();
  for (const action of actions) {
    if ("add" in action) {
      if (paths.has(action.add.path)) throw new DeltaError(`${root}: one commit adds ${action.add.path} twice`);
      paths.add(action.add.path);
    }
    if ("remove" in action && action.remove.dataChange && metadata.configuration["delta.appendOnly"] === "true") {
      throw new DeltaError(`${root}: the table is append-only (delta.appendOnly); a commit may not remove data from it`);
    }
  }
}

function commitInfoOf(request: CommitRequest, timestamp: number, snapshot: Snapshot | undefined): CommitInfo {
  const removes = request.actions.some((a) => "remove" in a);
  return {
    timestamp,
    operation: request.operation,
    operationParameters: request.operationParameters ?? {},
    ...(snapshot ? { readVersion: snapshot.version } : {}),
    isolationLevel: "Serializable",
    isBlindAppend: !removes,
    engineInfo: ENGINE_INFO,
    txnId: randomUUID(),
    ...(request.provenance ? { userMetadata: JSON.stringify(request.provenance) } : {}),
  };
}

/** Mallard's provenance a commit recorded (run id, input versions), if it recorded any. */
export function provenanceOf(info: CommitInfo | undefined): Record<string, unknown> | undefined {
  if (!info?.userMetadata) return undefined;
  try {
    const value = JSON.parse(info.userMetadata) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // written by another engine
  }
}

/**
 * A checkpoint at every N-th version. Best effort: the commit has already succeeded, and a missing
 * checkpoint only makes the next reader replay a few more JSON commits.
 */
async function maybeCheckpoint(lake: Lake, con: DuckDBConnection, snapshot: Snapshot): Promise<void> {
  const interval = Number(snapshot.metadata.configuration["delta.checkpointInterval"] ?? DEFAULT_CHECKPOINT_INTERVAL);
  if (snapshot.version === 0 || !(interval > 0) || snapshot.version % interval !== 0) return;
  await writeCheckpoint(lake, con, snapshot.root, snapshot.version, stateOf(snapshot)).catch(() => undefined);
}
