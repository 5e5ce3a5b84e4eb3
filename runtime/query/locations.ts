// Where each table of the pipeline is, for readers outside Mallard (Fabric, Synapse, Databricks, Power BI,
// DuckDB, Polars): its Delta table's address (`abfss://…` on Azure) and latest version, from one listing
// of its log. What the Functions runs API returns, so a team can wire a reader to a deployment.

import type { Pipeline } from "../declare/pipeline.ts";
import type { Lake } from "../lake/lake.ts";
import { listLog } from "../lake/delta/log-files.ts";
import { lakeTables } from "./catalog.ts";

export interface TableLocation {
  /** The name `mallard query` gives it. */
  readonly name: string;
  readonly stage: string;
  /** The Delta table's folder as an outside reader addresses it. */
  readonly path: string;
  readonly format: "delta";
  /** The latest version in its log. */
  readonly version: number;
}

/** Every table of the pipeline that has been written, with its address and latest version. */
export async function tableLocations(lake: Lake, pipeline: Pipeline): Promise<TableLocation[]> {
  const found = await Promise.all(
    (await lakeTables(lake, pipeline)).map(async (table): Promise<TableLocation | undefined> => {
      const log = await listLog(lake, table.root);
      const versions = [...log.commits.keys(), ...log.checkpoints.map((c) => c.version)];
      if (!versions.length) return undefined;
      return { name: table.name, stage: table.stage.name, path: lake.externalPath(table.root), format: "delta", version: Math.max(...versions) };
    }),
  );
  return found.filter((t): t is TableLocation => t !== undefined);
}
