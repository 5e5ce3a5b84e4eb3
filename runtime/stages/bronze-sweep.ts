// Remove Parquet files a crashed load uploaded but never committed. Only files older than a grace
// period are touched, so a load in flight on another instance keeps its files.

import type { BronzeTable } from "../declare/stages.ts";
import type { Lake } from "../lake/lake.ts";
import type { BronzeState } from "../state/bronze-state.ts";
import { bronzeRoot } from "./bronze-paths.ts";

const GRACE_MS = 6 * 3_600_000;

export async function sweepOrphanBatches(lake: Lake, stage: BronzeTable, state: BronzeState | undefined, now = Date.now()): Promise<number> {
  const committed = new Set(state?.batches.flatMap((b) => b.files) ?? []);
  let removed = 0;
  for await (const object of lake.list(bronzeRoot(stage))) {
    if (committed.has(object.path)) continue;
    const stamp = /\/(\d{8}T\d{9}Z)-[^/]*\.parquet$/.exec(object.path)?.[1];
    if (!stamp) continue;
    const written = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`);
    if (now - written > GRACE_MS) {
      await lake.delete(object.path);
      removed++;
    }
  }
  return removed;
}
