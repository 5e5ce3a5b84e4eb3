// Publish the result of a query as a lake table: write it to Parquet in the engine's work folder, then
// publish that file as the table's next version. Rows and columns come from the file's own metadata,
// so the query runs once.

import type { DuckDBConnection } from "@duckdb/node-api";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Engine } from "../engine/engine.ts";
import { copyToParquet, queryRows } from "../engine/engine.ts";
import { quoteLiteral } from "../engine/sql.ts";
import type { Lake } from "../lake/lake.ts";
import { publishTable, type TableVersion } from "../lake/tables.ts";

export async function publishQuery(
  con: DuckDBConnection,
  target: { readonly lake: Lake; readonly engine: Engine; readonly runId: string },
  root: string,
  query: string,
): Promise<TableVersion> {
  const file = join(target.engine.workDir, `${target.runId}-${root.replace(/\//g, "_")}-${randomUUID()}.parquet`);
  await copyToParquet(con, query, file);
  const parquet = `read_parquet(${quoteLiteral(file)})`;
  const [{ n }] = await queryRows<{ n: bigint }>(con, `SELECT count(*) AS n FROM ${parquet}`);
  const columns = (await queryRows<{ column_name: string; column_type: string }>(con, `DESCRIBE SELECT * FROM ${parquet}`))
    .map((r) => ({ name: r.column_name, type: r.column_type }));
  return publishTable(target.lake, { root, runId: target.runId, localFiles: [file], rows: Number(n), columns });
}
