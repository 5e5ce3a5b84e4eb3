// Test helpers for lakes: a scratch local lake, and a table published from a SQL query.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, queryRows } from "../../runtime/engine/engine.ts";
import { quoteLiteral } from "../../runtime/engine/sql.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import type { InputVersions } from "../../runtime/lake/publish-guard.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { readCurrent, type TableVersion } from "../../runtime/lake/tables.ts";
import { publishQuery as publishStageQuery } from "../../runtime/stages/publish-query.ts";

export async function scratchLake(): Promise<{ lake: LocalLake; dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "mallard-lake-"));
  return { lake: new LocalLake(dir), dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Publish the result of `sql` as the table at `root` (e.g. "silver/raw"), as a stage would; the table's current version after. */
export async function publishQuery(engine: Engine, lake: Lake, root: string, sql: string, runId = "test", inputs: InputVersions = {}): Promise<TableVersion> {
  await engine.withConnection((con) => publishStageQuery(con, { lake, engine, runId }, root, sql, inputs));
  return (await readCurrent(lake, root))!;
}

/** All rows of a published table's current version, ordered by the given SQL expression. */
export async function readTable(engine: Engine, lake: Lake, root: string, orderBy = "1"): Promise<Record<string, unknown>[]> {
  const current = await readCurrent(lake, root);
  if (!current) throw new Error(`${root} is not published`);
  const files = await lake.localFiles(current.files);
  return engine.withConnection((con) =>
    queryRows(con, `SELECT * FROM read_parquet([${files.map(quoteLiteral).join(", ")}]) ORDER BY ${orderBy}`),
  );
}
