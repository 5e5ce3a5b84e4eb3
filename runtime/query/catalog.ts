// The lake as a catalog: every Delta table a pipeline writes, under the name a query uses, and DuckDB
// views over them (current, or as of a version or a time) for `mallard query` and `mallard shell`.
// Bronze tables read as models read them: the latest row per key, and `<name>__history` for every row.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Pipeline } from "../declare/pipeline.ts";
import type { Stage } from "../declare/stages.ts";
import { describeError } from "../errors.ts";
import type { Lake } from "../lake/lake.ts";
import { createSnapshotView } from "../lake/delta/read.ts";
import type { AsOf } from "../lake/delta/replay.ts";
import { readTable, tableRoot } from "../lake/tables.ts";
import { bronzeTableRoot } from "../stages/bronze-table/table-root.ts";
import { kindOf } from "../stages/index.ts";

export interface LakeTable {
  /** The view name: the stage's name, with a suffix for a companion table. */
  readonly name: string;
  readonly root: string;
  readonly stage: Stage;
}

/** The names of every table the pipeline's stages write (a model's quarantine and a dedup's entities and links too). */
export function lakeTableNames(pipeline: Pipeline): string[] {
  return pipeline.stages.flatMap((stage) => tableSuffixes(stage).map((suffix) => `${stage.name}${suffix}`));
}

/** Every table the pipeline's stages write, with its folder in `lake` (a bronze table's is the pipeline's own: see bronze-table/table-root.ts). */
export async function lakeTables(lake: Lake, pipeline: Pipeline): Promise<LakeTable[]> {
  const tables: LakeTable[] = [];
  for (const stage of pipeline.stages) {
    if (stage.kind === "bronze.table") tables.push({ name: stage.name, root: await bronzeTableRoot(lake, pipeline.name, stage), stage });
    else for (const suffix of tableSuffixes(stage)) tables.push({ name: `${stage.name}${suffix}`, root: tableRoot(stage.layer, `${stage.name}${suffix}`), stage });
  }
  return tables;
}

function tableSuffixes(stage: Stage): string[] {
  if (stage.kind === "bronze.table") return [""];
  return ["", ...kindOf(stage).views.companions, ...(stage.kind === "silver.dedup" ? [] : [QUARANTINE])];
}

const QUARANTINE = "__quarantine";

export interface RegisteredViews {
  /** View name → the table version it reads. */
  readonly views: ReadonlyMap<string, number | undefined>;
  /** Tables with no view, and why (not written yet, no such version). */
  readonly skipped: readonly string[];
}

/** A temp view per table of the pipeline, at `asOf` (default: current). */
export async function registerLakeViews(con: DuckDBConnection, lake: Lake, pipeline: Pipeline, asOf?: AsOf): Promise<RegisteredViews> {
  const views = new Map<string, number | undefined>();
  const skipped: string[] = [];
  for (const stage of pipeline.stages) {
    const kind = kindOf(stage);
    // The stage's own views, as a model reading it sees them (bronze: latest per key and __history).
    try {
      const versions = await kind.views.register(con, lake, stage.name, stage, { pipeline: pipeline.name, stage: "query" }, asOf);
      const version = Object.values(versions)[0];
      for (const suffix of ["", ...kind.views.companions]) views.set(`${stage.name}${suffix}`, version);
    } catch (e) {
      skipped.push(`${stage.name}: ${describeError(e).replace(/^stage "query": /, "")}`);
    }
    if (stage.kind === "bronze.table" || stage.kind === "silver.dedup") continue;
    // A quarantine exists only for models that drop rows.
    const quarantine = { name: `${stage.name}${QUARANTINE}`, root: tableRoot(stage.layer, `${stage.name}${QUARANTINE}`) };
    try {
      const snapshot = await readTable(lake, con, quarantine.root, asOf);
      if (!snapshot) continue;
      await createSnapshotView(con, lake, snapshot, quarantine.name);
      views.set(quarantine.name, snapshot.version);
    } catch (e) {
      skipped.push(`${quarantine.name}: ${describeError(e)}`);
    }
  }
  return { views, skipped };
}

/**
 * `--as-of`: a version number (every table at that version) or a time (every table as it was then),
 * such as `2026-11-24T10:00:00Z` or `2026-11-24`.
 */
export function parseAsOf(text: string | undefined): AsOf | { error: string } {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text.trim())) return { version: Number(text) };
  const time = Date.parse(text);
  if (Number.isNaN(time)) return { error: `--as-of: "${text}" is neither a version number nor a time (e.g. 3, or 2026-11-24T10:00:00Z)` };
  return { timestamp: time };
}
