// VACUUM: delete the files of a Delta table that no version inside the retention window references —
// files removed longer ago than the window, and files no commit ever added (crashed writes) once they are
// older than the window. Safe beside a concurrent writer: a file a commit adds was uploaded moments ago,
// and a file a commit removes after this snapshot was read is still live in it; both are kept.
// Idempotent: a second run finds nothing to delete.

import type { DuckDBConnection } from "@duckdb/node-api";
import pLimit from "p-limit";
import type { Lake } from "../lake.ts";
import { LOG_DIR } from "./actions.ts";
import { tombstoneRetentionMs } from "./checkpoint.ts";
import { assertWritable } from "./protocol.ts";
import { loadSnapshot } from "./replay.ts";

/**
 * A file no commit names is left alone for at least this long whatever the retention: it may belong to a
 * write still uploading (a bronze load of many chunks, a slow publish).
 */
export const UNTRACKED_MIN_AGE_MS = 3_600_000;

export interface VacuumOptions {
  /** Keep what versions this recent may read. @default the table's delta.deletedFileRetentionDuration (7 days) */
  readonly retentionMs?: number;
  /** List what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
  readonly now?: number;
}

export interface VacuumResult {
  readonly table: string;
  readonly version: number;
  /** Lake paths deleted (or, in a dry run, that would be). */
  readonly deleted: readonly string[];
  readonly bytes: number;
  readonly retentionMs: number;
}

/** Vacuum the table at `root`; undefined when there is no Delta table there. */
export async function vacuumTable(lake: Lake, con: DuckDBConnection, root: string, options: VacuumOptions = {}): Promise<VacuumResult | undefined> {
  const snapshot = await loadSnapshot(lake, con, root);
  if (!snapshot) return undefined;
  // A table with a writer feature Mallard does not know may keep files it cannot see (vacuumProtocolCheck).
  assertWritable(root, snapshot.protocol, snapshot.metadata);
  const now = options.now ?? Date.now();
  const retentionMs = options.retentionMs ?? tombstoneRetentionMs(snapshot.metadata.configuration);
  const cutoff = now - retentionMs;
  const keep = new Set<string>();
  for (const path of snapshot.files.keys()) keep.add(decodeURIComponent(path));
  for (const [path, remove] of snapshot.tombstones) if ((remove.deletionTimestamp ?? now) >= cutoff) keep.add(decodeURIComponent(path));
  const partitions = new Set(snapshot.metadata.partitionColumns);

  const doomed: { path: string; size: number }[] = [];
  for await (const object of lake.list(root)) {
    const relative = object.path.slice(root.length + 1);
    if (hidden(relative, partitions) || keep.has(relative)) continue;
    // Written recently: a commit may be about to add it.
    if ((object.modified ?? now) >= Math.min(cutoff, now - UNTRACKED_MIN_AGE_MS)) continue;
    doomed.push({ path: object.path, size: object.size });
  }
  if (!options.dryRun) {
    const limit = pLimit(8);
    await Promise.all(doomed.map((d) => limit(() => lake.delete(d.path))));
  }
  return { table: root, version: snapshot.version, deleted: doomed.map((d) => d.path), bytes: doomed.reduce((n, d) => n + d.size, 0), retentionMs };
}

/**
 * The log and anything under a folder starting with `_` or `.` is not data (Delta's own rule), except a
 * partition folder such as `_load_date=2026-11-24` of a partition column named so.
 */
function hidden(relative: string, partitions: ReadonlySet<string>): boolean {
  const parts = relative.split("/");
  if (parts[0] === LOG_DIR) return true;
  return parts.some((part, i) => {
    if (!part.startsWith("_") && !part.startsWith(".")) return false;
    const isFolder = i < parts.length - 1;
    return !(isFolder && partitions.has(part.slice(0, part.indexOf("="))) && part.includes("="));
  });
}
