// Key-scan deletes (`deletes: "keyScan"`): after an incremental load, the source's primary keys are read
// (a projection through the same connector read) and compared with the keys bronze's latest view
// holds; keys gone from the source get a tombstone row (`_mallard_deleted = true`) committed as one
// more batch, so the latest-per-key view drops them and `__history` keeps what they were.
// Works for any source whose connector can read a projection: PostgreSQL, MySQL/MariaDB, REST, ….
//
// Safe against changes during the scan: it runs after the load committed, so a key the scan misses was
// in bronze and is gone from the source now (deleted after the load or before it); a row inserted or
// re-created meanwhile is in the scan and gets no tombstone; the next load brings its new version.

import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BronzeTable } from "../../declare/stages.ts";
import { queryRows } from "../../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { dataFilePath } from "../../lake/delta/actions.ts";
import { uploadBronzeFile } from "../../state/bronze-files.ts";
import type { ResourceSchema, SourceConnector } from "../../sources/source.ts";
import type { StageContext } from "../context.ts";
import { commitBronze } from "./commit.ts";
import { DELETED_COLUMN } from "./log.ts";
import { loadDateOf, newLoadId } from "./paths.ts";
import { registerBronze } from "./register-views.ts";
import { bronzeRootOf, readBronze } from "./state.ts";

/** Keys per Parquet file of the scan (they are small: a few bytes each). */
const SCAN_CHUNK_ROWS = 2_000_000;

/** Whether a run of this stage ends with a key scan: an incremental load (not its first, not a full refresh) declaring it. */
export function wantsKeyScan(stage: BronzeTable, options: { fullRefresh: boolean; loadedBefore: boolean }): boolean {
  return stage.deletes === "keyScan" && stage.incremental !== undefined && !options.fullRefresh && options.loadedBefore;
}

/** Scan the source's keys and commit tombstones for bronze keys it no longer has. Answers how many. */
export async function scanDeletedKeys(ctx: StageContext<BronzeTable>, connector: SourceConnector, schema: ResourceSchema): Promise<number> {
  const { stage, engine, lake } = ctx;
  // The state before the scan: tombstones are committed only over it, so keys a load committed while
  // the scan ran (which the scan could not see) are never taken for deleted ones.
  const { state } = await readBronze(ctx);
  const root = await bronzeRootOf(ctx);
  if (!state) return 0;
  const dir = await mkdtemp(join(engine.workDir, "keyscan-"));
  try {
    const files: string[] = [];
    const chunks = connector.read({ schema, columns: stage.primaryKey, chunkRows: SCAN_CHUNK_ROWS, workDir: dir }, engine);
    for await (const chunk of chunks) {
      if (chunk.rows === 0) continue;
      const kept = join(dir, `keys-${files.length}.parquet`);
      await copyFile(chunk.file, kept);
      files.push(kept);
    }
    const key = stage.primaryKey.map(quoteIdent).join(", ");
    const tombstones = join(dir, "tombstones.parquet");
    const view = "_mallard_keyscan_bronze";
    const sourceKeys = files.length
      ? `SELECT ${key} FROM read_parquet([${files.map(quoteLiteral).join(", ")}])`
      : `SELECT ${key} FROM ${quoteIdent(view)} WHERE false`;
    const count = await engine.withConnection(async (con) => {
      await registerBronze(con, lake, view, stage, { pipeline: ctx.pipeline.name, stage: "key scan" });
      const [row] = await queryRows<{ Count: bigint }>(con,
        `COPY (SELECT ${key}, true AS ${quoteIdent(DELETED_COLUMN)} FROM (SELECT ${key} FROM ${quoteIdent(view)} EXCEPT ${sourceKeys})) ` +
          `TO ${quoteLiteral(tombstones)} (FORMAT parquet, COMPRESSION zstd)`);
      return Number(row.Count);
    });
    if (count === 0) return 0;
    const loadId = `${newLoadId()}-00000`;
    const add = await engine.withConnection((con) =>
      uploadBronzeFile(lake, con, root, state.columns, { localFile: tombstones, loadId, loadDate: loadDateOf(loadId), name: `${loadId}.parquet`, deletes: true }));
    await commitBronze(ctx, {
      adds: [add],
      batches: [{
        loadId, runId: ctx.runId, mode: "incremental", files: [dataFilePath(root, add.path)], rows: count, bytes: add.size,
        committedAt: new Date().toISOString(), checkpointAfter: state.checkpoint, deletes: true,
      }],
      columns: state.columns,
      checkpoint: state.checkpoint,
      // Only over the state the scan compared with: a load committed meanwhile makes the scan stale.
      expected: { checkpoint: state.checkpoint },
    });
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
