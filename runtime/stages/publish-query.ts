// Publish the result of a query as a lake table: one Delta commit of the table's next version, recording
// the input versions it was computed from (see lake/tables.ts).

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Engine } from "../engine/engine.ts";
import type { Lake } from "../lake/lake.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import { publishTable } from "../lake/tables.ts";

export interface PublishedQuery {
  /** Rows the query produced. */
  readonly rows: number;
  /** Bytes now in the lake for this version (0 when it stepped aside). */
  readonly bytes: number;
  /** The new Delta version; absent when it stepped aside. */
  readonly version?: string;
  /** Why it stepped aside for a version computed from newer inputs; absent when published. */
  readonly steppedAside?: string;
}

export async function publishQuery(
  con: DuckDBConnection,
  target: { readonly lake: Lake; readonly engine: Engine; readonly runId: string; readonly pipeline?: { readonly name: string }; readonly holdsTask?: () => Promise<boolean> },
  root: string,
  query: string,
  inputs: InputVersions,
): Promise<PublishedQuery> {
  const result = await publishTable(target.lake, con, {
    root, runId: target.runId, query, inputs, holdsTask: target.holdsTask, workDir: target.engine.workDir, pipeline: target.pipeline?.name,
  });
  return result.published
    ? { rows: result.rows, bytes: result.bytes, version: String(result.version) }
    : { rows: result.rows, bytes: 0, steppedAside: `${root}: ${result.reason}` };
}
