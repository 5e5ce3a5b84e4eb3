// Expose a model's inputs to DuckDB as views named after them: a bronze input reads as the latest row
// per primary key (and `<view>__history` as every loaded row); a silver or gold input as its current version.
// The versions read are returned, so what the model publishes records what it was computed from.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Stage } from "../declare/stages.ts";
import { quoteIdent, quoteLiteral } from "../engine/sql.ts";
import type { Lake } from "../lake/lake.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import { readTable, tableRoot } from "../lake/tables.ts";
import { createSnapshotView } from "../lake/delta/read.ts";
import { currentBatches, readBronzeState } from "../state/bronze-state.ts";
import { StageError } from "../errors.ts";
import { bronzeRoot } from "./bronze-paths.ts";

export async function registerInputs(
  con: DuckDBConnection,
  lake: Lake,
  stageName: string,
  inputs: Readonly<Record<string, Stage>>,
): Promise<InputVersions> {
  const versions: Record<string, number> = {};
  for (const [view, input] of Object.entries(inputs)) {
    if (input.kind === "bronze.table") Object.assign(versions, await registerBronze(con, lake, view, input));
    else Object.assign(versions, await registerPublished(con, lake, stageName, view, input));
  }
  return versions;
}

async function registerBronze(con: DuckDBConnection, lake: Lake, view: string, input: Extract<Stage, { kind: "bronze.table" }>): Promise<InputVersions> {
  const { state } = await readBronzeState(lake, input.name);
  const batches = currentBatches(state);
  const files = await lake.localFiles(batches.flatMap((b) => b.files));
  const history = quoteIdent(`${view}__history`);
  const columns = state?.columns ?? [];
  if (files.length === 0 && columns.length === 0) throw new StageError(`input "${input.name}" has not been loaded yet (run it first)`);
  // Every column the table's state knows, typed, even one no loaded row carries yet (added to the source
  // after the last changed row): older batches read it as NULL.
  const declared = `SELECT ${[...columns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`), "NULL::INTEGER AS _mallard_load_seq"].join(", ")} WHERE false`;
  if (files.length === 0) {
    await con.run(`CREATE OR REPLACE TEMP VIEW ${history} AS ${declared}`);
  } else {
    // Load order comes from the manifest, not from file names, so a remote lake may cache files anywhere.
    const order = quoteIdent(`${view}__load_order`);
    await con.run(`CREATE OR REPLACE TEMP TABLE ${order} (file VARCHAR, seq INTEGER)`);
    for (let i = 0; i < files.length; i += 1000) {
      const rows = files.slice(i, i + 1000).map((f, j) => `(${quoteLiteral(f)}, ${i + j})`).join(", ");
      await con.run(`INSERT INTO ${order} VALUES ${rows}`);
    }
    const list = `[${files.map(quoteLiteral).join(", ")}]`;
    await con.run(
      `CREATE OR REPLACE TEMP VIEW ${history} AS SELECT data.* EXCLUDE (_mallard_file), o.seq AS _mallard_load_seq ` +
        `FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false, filename = '_mallard_file') data JOIN ${order} o ON o.file = data._mallard_file ` +
        `UNION ALL BY NAME ${declared}`,
    );
  }
  // The newest batch holding a key has its newest version; the cursor breaks ties inside a batch.
  const key = input.primaryKey.map(quoteIdent).join(", ");
  const newest = ["_mallard_load_seq DESC", ...(input.incremental?.cursor ?? []).map((c) => `${quoteIdent(c)} DESC`)].join(", ");
  await con.run(
    `CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS SELECT * EXCLUDE (_mallard_load_seq) FROM ${history} ` +
      `QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${newest}) = 1`,
  );
  // Batches are only ever appended to the state, so their count orders what two readers saw.
  return { [bronzeRoot(input)]: state?.batches.length ?? 0 };
}

/** Views besides the main one that an input kind offers: a dedup input also has its entities and links. */
export function companionViews(input: Stage): readonly string[] {
  if (input.kind === "bronze.table") return ["__history"];
  if (input.kind === "silver.dedup") return ["__entities", "__links"];
  return [];
}

async function registerPublished(con: DuckDBConnection, lake: Lake, stageName: string, view: string, input: Stage): Promise<InputVersions> {
  const tables = [["", input.name], ...companionViews(input).map((suffix) => [suffix, `${input.name}${suffix}`])];
  const versions: Record<string, number> = {};
  for (const [suffix, table] of tables) {
    const root = tableRoot(input.layer, table);
    const snapshot = await readTable(lake, con, root);
    if (!snapshot) throw new StageError(`stage "${stageName}": input "${table}" has not been published yet (run it first)`);
    // Delta versions of a table only grow: they order what two readers saw.
    versions[root] = snapshot.version;
    await createSnapshotView(con, lake, snapshot, view + suffix);
  }
  return versions;
}
