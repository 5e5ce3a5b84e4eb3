// Converting published tables of earlier Mallard versions (a folder per version and a `_current.json`
// pointer) into Delta tables, in place. The current version becomes version 0 in one commit that adds its
// files where they are (a file whose types Delta has no name for is rewritten beside them); no file is
// deleted, so a reader still reading an older version through the old pointer finishes, and vacuum
// removes the old folders once they are past the retention period.

import type { DuckDBConnection } from "@duckdb/node-api";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { copyToParquet, workDirOf } from "../engine/engine.ts";
import { quoteLiteral } from "../engine/sql.ts";
import { type Lake, lakePath } from "./lake.ts";
import { type Action, type AddFile, encodePath } from "./delta/actions.ts";
import { commit } from "./delta/commit.ts";
import { listLog } from "./delta/log-files.ts";
import { DUCK_TYPE_KEY } from "./delta/schema.ts";
import { fileStats } from "./delta/stats.ts";
import { definitionActions, projectionOf, uploadDataFile } from "./delta/write.ts";

/** The pointer file of the earlier layout. */
export const LEGACY_POINTER = "_current.json";

/** What an earlier version's pointer holds that the conversion needs. */
interface LegacyPointer {
  readonly version: string;
  readonly files: readonly string[];
  readonly runId: string;
}

/**
 * Convert the table at `root` if it is still in the earlier layout; returns whether it did. Safe to run
 * twice and from two processes at once: the commit is version 0, written put-if-absent.
 */
export async function migratePublishedTable(lake: Lake, con: DuckDBConnection, root: string): Promise<boolean> {
  const log = await listLog(lake, root);
  const pointerPath = lakePath(root, LEGACY_POINTER);
  if (log.commits.size > 0) return false;
  const pointer = (await lake.readJson<LegacyPointer>(pointerPath))?.value;
  if (!pointer) return false;
  const work = await mkdtemp(join(await workDirOf(con), "migrate-"));
  try {
    const local = await lake.localFiles(pointer.files);
    const source = `SELECT * FROM read_parquet([${local.map(quoteLiteral).join(", ")}], union_by_name = true)`;
    const projection = await projectionOf(con, local.length ? source : "SELECT 1 AS empty WHERE false");
    let adds: AddFile[];
    if (projection.schema.fields.some((f) => DUCK_TYPE_KEY in f.metadata)) {
      // No lineage is recorded (its input versions counted pointer writes, not Delta versions), so the
    // next publish goes ahead whatever it read. Types Delta has no name for (UUID, HUGEINT, …) are cast into a new file, as a publish writes them today.
      const file = join(work, "converted.parquet");
      await copyToParquet(con, `SELECT ${projection.select} FROM (${source})`, file);
      adds = [await uploadDataFile(lake, con, root, projection.schema, { localFile: file, name: `v${pointer.version}/converted.parquet` })];
    } else {
      adds = await Promise.all(
        pointer.files.map(async (path, i) => {
          const stats = await fileStats(con, local[i], projection.schema);
          const { size } = await stat(local[i]); // the lake object itself, or its exact cached copy
          return { path: encodePath(path.slice(root.length + 1)), partitionValues: {}, size, modificationTime: Date.now(), dataChange: true, stats: stats.json };
        }),
      );
    }
    await commit(lake, con, root, (snapshot) => {
      if (snapshot) return { stepAside: "converted by another process" };
      const actions: Action[] = [
        ...definitionActions(undefined, { schema: projection.schema }),
        ...adds.map((add) => ({ add })),
      ];
      return { actions, operation: "CONVERT", operationParameters: { from: LEGACY_POINTER }, provenance: { runId: pointer.runId, convertedFrom: pointer.version } };
    });
    await lake.delete(pointerPath);
    return true;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
