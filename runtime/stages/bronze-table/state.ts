// A bronze stage's table and state as a load or a reader needs them: read from the table's Delta log
// (at the pipeline's root for the stage, see table-root.ts), after converting a table still in the
// earliest layout (a state manifest) on first use.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { BronzeTable } from "../../declare/stages.ts";
import type { Lake } from "../../lake/lake.ts";
import type { AsOf } from "../../lake/delta/replay.ts";
import { type BronzeLog, readBronzeState } from "../../state/bronze-state.ts";
import type { StageContext } from "../context.ts";
import { migrateBronzeTable } from "./migrate.ts";
import { legacyBronzeRoot } from "./paths.ts";
import { bronzeTableRoot } from "./table-root.ts";

/** The table at `root` (latest, or as of a version or a time). */
async function readBronzeAt(lake: Lake, con: DuckDBConnection, stage: BronzeTable, root: string, asOf?: AsOf): Promise<BronzeLog> {
  const found = await readBronzeState(lake, con, root, asOf);
  // Only a table of the earlier layout can have a manifest to convert.
  if (found.snapshot || asOf !== undefined || root !== legacyBronzeRoot(stage)) return found;
  return (await migrateBronzeTable(lake, con, stage)) ? readBronzeState(lake, con, root) : found;
}

/** `pipeline`'s table and state for the stage (latest, or as of a version or a time). */
export async function readBronzeTable(lake: Lake, con: DuckDBConnection, pipeline: string, stage: BronzeTable, asOf?: AsOf): Promise<BronzeLog> {
  return readBronzeAt(lake, con, stage, await bronzeTableRoot(lake, pipeline, stage), asOf);
}

/** The folder of the running stage's table. */
export function bronzeRootOf(ctx: StageContext<BronzeTable>): Promise<string> {
  return bronzeTableRoot(ctx.lake, ctx.pipeline.name, ctx.stage);
}

/** The running stage's table and state. */
export async function readBronze(ctx: StageContext<BronzeTable>): Promise<BronzeLog> {
  const root = await bronzeRootOf(ctx);
  return ctx.engine.withConnection((con) => readBronzeAt(ctx.lake, con, ctx.stage, root));
}

/** The stage's latest state where no engine is at hand (`mallard status`, the run report): one small DuckDB for the read. */
export async function readBronzeStateAlone(lake: Lake, pipeline: string, stage: BronzeTable): Promise<BronzeLog> {
  const { Engine, lakeAccess } = await import("../../engine/engine.ts");
  const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake));
  try {
    return await engine.withConnection((con) => readBronzeTable(lake, con, pipeline, stage));
  } finally {
    await engine.close();
  }
}
