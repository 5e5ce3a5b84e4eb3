// What the maintenance commands share: the pipeline's tables (all, or those named with --table), the
// lake, and a DuckDB connection for the Delta log's checkpoints and the files' footers.

import type { DuckDBConnection } from "@duckdb/node-api";
import { loadPipeline } from "../../config/load-pipeline.ts";
import { Engine, lakeAccess } from "../../engine/engine.ts";
import { ConfigError } from "../../errors.ts";
import type { Lake } from "../../lake/lake.ts";
import { openLake } from "../../lake/open-lake.ts";
import { type LakeTable, lakeTableNames, lakeTables } from "../../query/catalog.ts";
import type { CommonOptions } from "../main.ts";

export interface MaintenanceOptions extends CommonOptions {
  table?: string[];
}

export interface Maintenance {
  readonly lake: Lake;
  readonly con: DuckDBConnection;
  readonly engine: Engine;
  readonly tables: readonly LakeTable[];
}

export async function withMaintenance<T>(options: MaintenanceOptions, body: (m: Maintenance) => Promise<T>): Promise<T> {
  const pipeline = await loadPipeline(options.config, options.projectDir);
  const names = lakeTableNames(pipeline);
  const unknown = (options.table ?? []).filter((name) => !names.includes(name));
  if (unknown.length) throw new ConfigError([`--table: ${unknown.map((n) => `"${n}"`).join(", ")} is not a table of pipeline ${pipeline.name} (tables: ${names.join(", ")})`]);
  const lake = await openLake(options.lake);
  const all = await lakeTables(lake, pipeline);
  const tables = options.table?.length ? all.filter((t) => options.table!.includes(t.name)) : all;
  const engine = await Engine.create(pipeline.engine, lakeAccess(lake));
  const con = await engine.connect();
  try {
    return await body({ lake, con, engine, tables });
  } finally {
    con.closeSync();
    await engine.close();
  }
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
