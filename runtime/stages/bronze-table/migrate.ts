// Converting a bronze table of the earlier layout (files under `load_date=` folders and a JSON state
// manifest in `_mallard/state/bronze/`) into a Delta table, in place: version 0 adds the files a reader
// of the current state reads, where they are (a file whose types Delta has no name for is rewritten
// beside it), and carries the manifest's state. No file is deleted, so a reader of the old layout in
// flight finishes; vacuum removes what no version names once it is past the retention period. Safe to
// run twice and from two processes at once (version 0 is put-if-absent).

import type { DuckDBConnection } from "@duckdb/node-api";
import { stat } from "node:fs/promises";
import type { BronzeTable } from "../../declare/stages.ts";
import type { Lake } from "../../lake/lake.ts";
import { type AddFile, encodePath } from "../../lake/delta/actions.ts";
import { fileStats } from "../../lake/delta/stats.ts";
import { uploadDataFile } from "../../lake/delta/write.ts";
import { bronzeDeltaSchema, inDeltaTypes } from "../../state/bronze-files.ts";
import { type BronzeState, commitBronzeLog, currentBatches, legacyStatePath } from "../../state/bronze-state.ts";
import { LOAD_DATE_COLUMN, LOAD_ID_TAG } from "./log.ts";
import { legacyBronzeRoot, loadDateOf } from "./paths.ts";

/** Convert the stage's table if it is still in the earlier layout; returns whether this call did. */
export async function migrateBronzeTable(lake: Lake, con: DuckDBConnection, stage: BronzeTable): Promise<boolean> {
  const legacy = (await lake.readJson<BronzeState>(legacyStatePath(stage.name)))?.value;
  if (!legacy) return false;
  const root = legacyBronzeRoot(stage);
  const schema = await bronzeDeltaSchema(con, legacy.columns, stage.deletes !== undefined);
  const adds: AddFile[] = [];
  for (const batch of currentBatches(legacy)) {
    for (const path of batch.files) {
      const [local] = await lake.localFiles([path]);
      const partitionValues = { [LOAD_DATE_COLUMN]: loadDateOf(batch.loadId) };
      const tags = { [LOAD_ID_TAG]: batch.loadId };
      const ready = await inDeltaTypes(con, local, schema);
      if (ready === local) {
        const stats = await fileStats(con, local, schema);
        const { size } = await stat(local);
        adds.push({ path: encodePath(path.slice(root.length + 1)), partitionValues, size, modificationTime: Date.now(), dataChange: true, stats: stats.json, tags });
      } else {
        const name = `${path.slice(path.lastIndexOf("/") + 1).replace(/\.parquet$/, "")}-converted.parquet`;
        adds.push(await uploadDataFile(lake, con, root, schema, { localFile: ready, partitionValues, tags, name }));
      }
    }
  }
  const outcome = await commitBronzeLog(lake, con, root, {
    stage: stage.name,
    runId: legacy.batches.at(-1)?.runId ?? "migrate",
    adds,
    replace: false,
    deletes: stage.deletes !== undefined,
    change: (current) => (current ? { unchanged: "converted by another process" } : { ...legacy, stage: stage.name }),
  });
  return outcome.committed;
}
