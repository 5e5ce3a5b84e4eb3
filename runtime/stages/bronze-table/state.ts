// A bronze stage's table and state as a load or a reader needs them: read from the table's Delta log,
// after converting a table still in the earlier layout (a state manifest) on first use.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { BronzeTable } from "../../declare/stages.ts";
import type { Lake } from "../../lake/lake.ts";
import type { AsOf } from "../../lake/delta/replay.ts";
import { type BronzeLog, readBronzeState } from "../../state/bronze-state.ts";
import type { StageContext } from "../context.ts";
import { migrateBronzeTable } from "./migrate.ts";
import { bronzeRoot } from "./paths.ts";

/** The stage's table and state (latest, or as of a version or a time). */
export async function readBronzeTable(lake: Lake, con: DuckDBConnection, stage: BronzeTable, asOf?: AsOf): Promise<BronzeLog> {
  const found = await readBronzeState(lake, con, bronzeRoot(stage), asOf);
  if (found.snapshot || asOf !== undefined) return found;
  return (await migrateBronzeTable(lake, con, stage)) ? readBronzeState(lake, con, bronzeRoot(stage)) : found;
}

/** The running stage's table and state. */
export function readBronze(ctx: StageContext<BronzeTable>): Promise<BronzeLog> {
  return ctx.engine.withConnection((con) => readBronzeTable(ctx.lake, con, ctx.stage));
}

/** The stage's latest state where no engine is at hand (`mallard status`, the run report): one small DuckDB for the read. */
export async function readBronzeStateAlone(lake: Lake, stage: BronzeTable): Promise<BronzeLog> {
  const { Engine, lakeAccess } = await import("../../engine/engine.ts");
  const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" }, lakeAccess(lake));
  try {
    return await engine.withConnection((con) => readBronzeTable(lake, con, stage));
  } finally {
    await engine.close();
  }
}
