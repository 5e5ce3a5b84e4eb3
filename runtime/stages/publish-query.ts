// Publish the result of a query as a lake table: write it to Parquet in the engine's work folder, then
// publish that file as the table's next version, recording the input versions it was computed from.
// Rows and columns come from the file's own metadata, so the query runs once.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Engine } from "../engine/engine.ts";
import { copyToParquet, queryRows } from "../engine/engine.ts";
import { quoteLiteral } from "../engine/sql.ts";
import type { Lake } from "../lake/lake.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import { publishTable } from "../lake/tables.ts";

export interface PublishedQuery {
  /** Rows the query produced. */
  readonly rows: number;
  /** Bytes now in the lake for this version (0 when it stepped aside). */
  readonly bytes: number;
  /** The new version's id; absent when it stepped aside. */
  readonly version?: string;
  /** Why it stepped aside for a version computed from newer inputs; absent when published. */
  readonly steppedAside?: string;
}

export async function publishQuery(
  con: DuckDBConnection,
  target: { readonly lake: Lake; readonly engine: Engine; readonly runId: string; readonly holdsTask?: () => Promise<boolean> },
  root: string,
  query: string,
  inputs: InputVersions,
): Promise<PublishedQuery> {
  const file = join(target.engine.workDir, `${target.runId}-${root.replace(/\//g, "_")}-${randomUUID()}.parquet`);
  await copyToParquet(con, query, file);
  const parquet = `read_parquet(${quoteLiteral(file)})`;
  const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM ${parquet}`);
  const columns = (await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE SELECT * FROM ${parquet}`))
    .map((r) => ({ name: r.column_name, type: r.column_type }));
  const rows = Number(n);
  const result = await publishTable(target.lake, { root, runId: target.runId, localFiles: [file], rows, columns, inputs, holdsTask: target.holdsTask });
  return result.published
    ? { rows, bytes: result.version.bytes, version: result.version.version }
    : { rows, bytes: 0, steppedAside: `${root}: ${result.reason}` };
}
