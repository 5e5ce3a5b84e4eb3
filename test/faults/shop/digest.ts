// What a lake holds, reduced to what a reader can see, so a lake recovered from a fault can be compared
// with a clean one row for row: every published Delta table's rows, and every bronze table's latest row
// per key (and its full history where no look-back re-reads rows on purpose). Each table is a row count
// and a hash of its sorted rows. Also what must hold whatever happened: every file a table's current
// version or a bronze batch names exists, and no run is left "running".

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Pipeline } from "../../../runtime/declare/pipeline.ts";
import type { BronzeTable } from "../../../runtime/declare/stages.ts";
import { type Engine, queryRows } from "../../../runtime/engine/engine.ts";
import { quoteIdent } from "../../../runtime/engine/sql.ts";
import { createSnapshotView, liveFilePaths } from "../../../runtime/lake/delta/read.ts";
import type { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { readTable } from "../../../runtime/lake/tables.ts";
import { bronzeViews } from "../../../runtime/stages/bronze-table/views.ts";
import { currentBatches } from "../../../runtime/state/bronze-state.ts";
import { readBronzeTable } from "../../../runtime/stages/bronze-table/state.ts";
import { RunRecords } from "../../../runtime/state/run-records.ts";

export interface TableDigest {
  readonly rows: number;
  readonly hash: string;
}

export interface LakeDigest {
  /** By table: `silver/people`, `bronze:orders` (latest per key), `bronze:orders__history`. */
  readonly tables: Record<string, TableDigest>;
  /** What is broken whatever the data: a missing file, a run left running. Empty when sound. */
  readonly broken: string[];
  /** Status of the newest run. */
  readonly lastRun?: string;
}

function digestRows(rows: readonly Record<string, unknown>[]): TableDigest {
  const lines = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).sort();
  return { rows: lines.length, hash: createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16) };
}

async function deltaRoots(lake: LocalLake): Promise<string[]> {
  const roots = new Set<string>();
  for (const layer of ["silver", "gold"]) {
    for await (const object of lake.list(layer)) {
      const at = object.path.indexOf("/_delta_log/");
      if (at > 0) roots.add(object.path.slice(0, at));
    }
  }
  return [...roots].sort();
}

export async function digestLake(lake: LocalLake, engine: Engine, pipeline: Pipeline): Promise<LakeDigest> {
  const tables: Record<string, TableDigest> = {};
  const broken: string[] = [];
  await engine.withConnection(async (con) => {
    for (const root of await deltaRoots(lake)) {
      const snapshot = await readTable(lake, con, root);
      if (!snapshot) continue;
      for (const path of liveFilePaths(snapshot)) if (!existsSync(join(lake.root, path))) broken.push(`${root} v${snapshot.version} names a missing file ${path}`);
      await createSnapshotView(con, lake, snapshot, "__digest");
      tables[root] = digestRows(await queryRows(con, "SELECT * FROM __digest"));
    }
    for (const stage of pipeline.stages.filter((s): s is BronzeTable => s.kind === "bronze.table")) {
      const { state } = await readBronzeTable(lake, con, pipeline.name, stage);
      if (!state) continue;
      for (const batch of state.batches) for (const file of batch.files) if (!existsSync(join(lake.root, file))) broken.push(`bronze ${stage.name} batch ${batch.loadId} names a missing file ${file}`);
      const view = `digest_${stage.name}`;
      await bronzeViews.register(con, lake, view, stage, { pipeline: pipeline.name, stage: "fault-suite" });
      tables[`bronze:${stage.name}`] = digestRows(await queryRows(con, `SELECT * FROM ${quoteIdent(view)}`));
      // Look-back re-reads rows on purpose (the latest per key hides them); without it, a row loaded
      // twice is a doubled row.
      if (!stage.incremental?.lookBack) {
        tables[`bronze:${stage.name}__history`] = digestRows(await queryRows(con, `SELECT * EXCLUDE (_mallard_load_seq, _mallard_row) FROM ${quoteIdent(`${view}__history`)}`));
      }
      if (currentBatches(state).length === 0 && state.columns.length === 0) broken.push(`bronze ${stage.name} has a state with nothing in it`);
    }
  });
  const runs = await new RunRecords(lake).latest(pipeline.name, 50);
  for (const run of runs) if (run.status === "running") broken.push(`run ${run.runId} is still "running"`);
  return { tables, broken, lastRun: runs[0]?.status };
}

/** Differences between a recovered lake and the clean one, one line each (empty: the same). */
export function compareDigests(clean: LakeDigest, recovered: LakeDigest): string[] {
  const out = [...recovered.broken];
  for (const name of new Set([...Object.keys(clean.tables), ...Object.keys(recovered.tables)])) {
    const a = clean.tables[name];
    const b = recovered.tables[name];
    if (!a) out.push(`${name}: not in the clean lake`);
    else if (!b) out.push(`${name}: missing (clean: ${a.rows} rows)`);
    else if (a.hash !== b.hash) out.push(`${name}: ${b.rows} rows differ from the clean run's ${a.rows}`);
  }
  if (recovered.lastRun !== "succeeded") out.push(`the last run ${recovered.lastRun ?? "is missing"}`);
  return out;
}
