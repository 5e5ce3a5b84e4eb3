// Publishing a query's result as a Delta table's next version: DuckDB writes the Parquet file in Delta's
// types, the file is uploaded, and one commit removes the previous version's files and adds the new one
// (with a metaData action when the schema or Mallard's properties change). A caller's guard may decide,
// on the snapshot the commit would land on, to step aside instead; the uploaded file is then deleted.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { copyToParquet, queryRows } from "../../engine/engine.ts";
import { quoteLiteral } from "../../engine/sql.ts";
import type { Lake } from "../lake.ts";
import { type Action, type AddFile, dataFilePath } from "./actions.ts";
import { commit, type CommitOutcome } from "./commit.ts";
import type { Snapshot } from "./replay.ts";
import { definitionActions, projectionOf, removeAll, uploadDataFile } from "./write.ts";

export interface OverwriteInput {
  readonly root: string;
  /** The SQL whose result becomes the table. */
  readonly query: string;
  /** Local folder for the Parquet file before upload. */
  readonly workDir: string;
  /** Table properties under `mallard.` (replacing the previous ones). */
  readonly configuration?: Readonly<Record<string, string>>;
  /** Into commitInfo.userMetadata. */
  readonly provenance?: Readonly<Record<string, unknown>>;
  /** A reason to step aside on this snapshot (a newer publish won), or undefined to commit; it may throw to stop. */
  readonly guard?: (snapshot: Snapshot | undefined) => string | undefined | Promise<string | undefined>;
}

export type OverwriteOutcome = CommitOutcome & { readonly rows: number; readonly bytes: number };

export async function overwriteTable(lake: Lake, con: DuckDBConnection, input: OverwriteInput): Promise<OverwriteOutcome> {
  const projection = await projectionOf(con, input.query);
  const local = join(input.workDir, `${input.root.replace(/\//g, "_")}-${randomUUID()}.parquet`);
  await copyToParquet(con, `SELECT ${projection.select} FROM (${input.query})`, local);
  const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT num_rows AS n FROM parquet_file_metadata(${quoteLiteral(local)})`);
  const rows = Number(n);
  // An empty result is a version with no files: the schema lives in the log.
  const add: AddFile | undefined = rows > 0 ? await uploadDataFile(lake, con, input.root, projection.schema, { localFile: local }) : undefined;
  if (!add) await rm(local, { force: true });
  const discard = async () => {
    if (add) await lake.delete(dataFilePath(input.root, add.path));
  };
  const outcome = await commit(lake, con, input.root, async (snapshot) => {
    const reason = await input.guard?.(snapshot);
    if (reason) return { stepAside: reason };
    const now = Date.now();
    const actions: Action[] = [
      ...definitionActions(snapshot, { schema: projection.schema, configuration: input.configuration }, now),
      ...removeAll(snapshot, now),
      ...(add ? [{ add }] : []),
    ];
    return {
      actions,
      operation: snapshot ? "WRITE" : "CREATE TABLE",
      operationParameters: { mode: "Overwrite", partitionBy: "[]" },
      provenance: input.provenance,
    };
  }).catch(async (e: unknown) => {
    await discard();
    throw e;
  });
  if (!outcome.committed) await discard();
  return { ...outcome, rows, bytes: add?.size ?? 0 };
}
