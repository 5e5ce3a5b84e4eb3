// What `mallard query` and `mallard shell` share: the pipeline's lake opened in a DuckDB session with a
// view per table (current, or `--as-of` a version or a time), and a query's result as text.

import type { DuckDBConnection } from "@duckdb/node-api";
import { loadPipeline } from "../config/load-pipeline.ts";
import { Engine, lakeAccess } from "../engine/engine.ts";
import { ConfigError, StageError, describeError } from "../errors.ts";
import { openLake } from "../lake/open-lake.ts";
import { parseAsOf, registerLakeViews, type RegisteredViews } from "./catalog.ts";
import { formatResult, type ResultFormat } from "./format.ts";

export interface SessionOptions {
  config: string;
  lake: string;
  projectDir: string;
  asOf?: string;
}

export interface QuerySession extends RegisteredViews {
  readonly con: DuckDBConnection;
  /** Run SQL (one or more statements) and return the last one's result as text. */
  run(sql: string, format: ResultFormat, maxRows: number): Promise<string>;
  close(): Promise<void>;
}

export async function openQuerySession(options: SessionOptions): Promise<QuerySession> {
  const asOf = parseAsOf(options.asOf);
  if (asOf && "error" in asOf) throw new ConfigError([asOf.error]);
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const lake = await openLake(options.lake);
  const engine = await Engine.create(pipeline.engine, lakeAccess(lake));
  const con = await engine.connect();
  try {
    const registered = await registerLakeViews(con, lake, pipeline, asOf);
    return {
      ...registered,
      con,
      async run(sql, format, maxRows) {
        try {
          return formatResult(await con.runAndReadAll(sql), format, maxRows);
        } catch (e) {
          throw new StageError(`query: ${describeError(e)}`);
        }
      },
      async close() {
        con.closeSync();
        await engine.close();
      },
    };
  } catch (e) {
    con.closeSync();
    await engine.close();
    throw e;
  }
}
