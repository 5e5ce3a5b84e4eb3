// Remove Parquet files a crashed load uploaded but never committed: no version of the table names them
// (neither live nor removed). Only files older than a grace period are touched, so a load in flight on
// another instance keeps its files. Vacuum removes the same files; the sweep just does it sooner.

import { type Lake, sortableIdTime } from "../../lake/lake.ts";
import type { Snapshot } from "../../lake/delta/replay.ts";

const GRACE_MS = 6 * 3_600_000;

/** Sweep the table at `root` (whose latest snapshot is `snapshot`). */
export async function sweepOrphanBatches(lake: Lake, root: string, snapshot: Snapshot | undefined, now = Date.now()): Promise<number> {
  const named = new Set([...(snapshot?.files.keys() ?? []), ...(snapshot?.tombstones.keys() ?? [])].map((p) => decodeURIComponent(p)));
  let removed = 0;
  for await (const object of lake.list(root)) {
    const relative = object.path.slice(root.length + 1);
    if (named.has(relative) || relative.startsWith("_delta_log/") || relative.startsWith("_mallard/")) continue;
    if (!object.path.endsWith(".parquet")) continue;
    // Batch files are named by their time-sortable load id; any other name is not a batch and stays.
    const written = sortableIdTime(object.path.slice(object.path.lastIndexOf("/") + 1));
    if (now - written > GRACE_MS) {
      await lake.delete(object.path);
      removed++;
    }
  }
  return removed;
}
