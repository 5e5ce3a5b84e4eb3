// Test helpers for lakes: a scratch local lake, a table published from a SQL query, and a published
// table's current version and rows read back through Mallard's Delta reader.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, queryRows } from "../../runtime/engine/engine.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import type { InputVersions } from "../../runtime/lake/publish-guard.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { lineageOf, readTable as readSnapshot } from "../../runtime/lake/tables.ts";
import { createSnapshotView, liveFilePaths } from "../../runtime/lake/delta/read.ts";
import type { AsOf } from "../../runtime/lake/delta/replay.ts";
import { publishQuery as publishStageQuery } from "../../runtime/stages/publish-query.ts";

export async function scratchLake(): Promise<{ lake: LocalLake; dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "mallard-lake-"));
  return { lake: new LocalLake(dir), dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** A published table's current version as a test sees it. */
export interface CurrentVersion {
  readonly version: number;
  readonly runId?: string;
  readonly inputs?: InputVersions;
  /** Lake paths of its live files. */
  readonly files: readonly string[];
}

export async function currentVersion(engine: Engine, lake: Lake, root: string): Promise<CurrentVersion | undefined> {
  const snapshot = await engine.withConnection((con) => readSnapshot(lake, con, root));
  if (!snapshot) return undefined;
  const lineage = lineageOf(snapshot);
  return { version: snapshot.version, runId: lineage?.runId, inputs: lineage?.inputs, files: liveFilePaths(snapshot) };
}

/** Publish the result of `sql` as the table at `root` (e.g. "silver/raw"), as a stage would; the table's current version after. */
export async function publishQuery(engine: Engine, lake: Lake, root: string, sql: string, runId = "test", inputs: InputVersions = {}): Promise<CurrentVersion> {
  await engine.withConnection((con) => publishStageQuery(con, { lake, engine, runId }, root, sql, inputs));
  return (await currentVersion(engine, lake, root))!;
}

/** All rows of a published table (its current version, or an older one), ordered by the given SQL expression. */
export async function readTable(engine: Engine, lake: Lake, root: string, orderBy = "1", asOf?: AsOf): Promise<Record<string, unknown>[]> {
  return engine.withConnection(async (con) => {
    const snapshot = await readSnapshot(lake, con, root, asOf);
    if (!snapshot) throw new Error(`${root} is not published`);
    await createSnapshotView(con, lake, snapshot, "__read_table");
    return queryRows(con, `SELECT * FROM __read_table ORDER BY ${orderBy}`);
  });
}
