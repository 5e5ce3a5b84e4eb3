// Remove Parquet files a crashed load uploaded but never committed. Only files older than a grace
// period are touched, so a load in flight on another instance keeps its files.

import type { BronzeTable } from "../../declare/stages.ts";
import { type Lake, sortableIdTime } from "../../lake/lake.ts";
import type { BronzeState } from "../../state/bronze-state.ts";
import { bronzeRoot } from "./paths.ts";

const GRACE_MS = 6 * 3_600_000;

export async function sweepOrphanBatches(lake: Lake, stage: BronzeTable, state: BronzeState | undefined, now = Date.now()): Promise<number> {
  const committed = new Set(state?.batches.flatMap((b) => b.files) ?? []);
  let removed = 0;
  for await (const object of lake.list(bronzeRoot(stage))) {
    if (committed.has(object.path)) continue;
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
