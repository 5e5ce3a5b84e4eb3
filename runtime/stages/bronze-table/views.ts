// What a model sees of a bronze input: `<view>` is the latest row per primary key (a column the source
// dropped reads NULL there), `<view>__history` every loaded row with the columns the table's state knows.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { BronzeTable } from "../../declare/stages.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { StageError } from "../../errors.ts";
import type { Lake } from "../../lake/lake.ts";
import type { InputVersions } from "../../lake/publish-guard.ts";
import { currentBatches, readBronzeState } from "../../state/bronze-state.ts";
import type { InputViews } from "../kind.ts";
import { bronzeRoot } from "./paths.ts";

/** The column a deleted key's row carries (key-scan tombstones, an API's tombstone records). */
export const DELETED_COLUMN = "_mallard_deleted";

export const bronzeViews: InputViews<BronzeTable> = {
  companions: ["__history"],
  register: registerBronze,
};

/** The views over a bronze table's current batches: `<view>` (latest per key, deleted keys dropped) and `<view>__history`. */
export async function registerBronze(con: DuckDBConnection, lake: Lake, view: string, input: BronzeTable): Promise<InputVersions> {
  const { state } = await readBronzeState(lake, input.name);
  const batches = currentBatches(state);
  const files = await lake.localFiles(batches.flatMap((b) => b.files));
  const history = quoteIdent(`${view}__history`);
  const columns = state?.columns ?? [];
  if (files.length === 0 && columns.length === 0) throw new StageError(`input "${input.name}" has not been loaded yet (run it first)`);
  // Every column the table's state knows, typed, even one no loaded row carries yet (added to the source
  // after the last changed row): older batches read it as NULL.
  // A table with deletes (key-scan or tombstone records) has rows marking a key deleted: the history
  // shows them, the latest view drops the key.
  const deletes = input.deletes !== undefined;
  const declared = `SELECT ${[
    ...columns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`),
    ...(deletes ? [`NULL::BOOLEAN AS ${quoteIdent(DELETED_COLUMN)}`] : []),
    "NULL::INTEGER AS _mallard_load_seq", "NULL::BIGINT AS _mallard_row",
  ].join(", ")} WHERE false`;
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
      `CREATE OR REPLACE TEMP VIEW ${history} AS SELECT data.* EXCLUDE (_mallard_file, _mallard_row), o.seq AS _mallard_load_seq, data._mallard_row ` +
        `FROM (SELECT * EXCLUDE (file_row_number), file_row_number AS _mallard_row FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false, filename = '_mallard_file', file_row_number = true)) data ` +
        `JOIN ${order} o ON o.file = data._mallard_file ` +
        `UNION ALL BY NAME ${declared}`,
    );
  }
  // The newest batch holding a key has its newest version; the cursor breaks ties inside a batch, then the
  // row's place in its file (a file drop's later file, or later line, is newer).
  const key = input.primaryKey.map(quoteIdent).join(", ");
  const newest = ["_mallard_load_seq DESC", ...(input.incremental?.cursor ?? []).map((c) => `${quoteIdent(c)} DESC`), "_mallard_row DESC"].join(", ");
  // A column the source dropped: NULL in every latest row, rather than old values beside new NULLs.
  const dropped = (state?.dropped ?? []).flatMap((name) => columns.filter((c) => c.name === name));
  const replace = dropped.length ? ` REPLACE (${dropped.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`).join(", ")})` : "";
  await con.run(
    `CREATE OR REPLACE TEMP VIEW ${quoteIdent(view)} AS SELECT * EXCLUDE (_mallard_load_seq, _mallard_row${deletes ? `, ${quoteIdent(DELETED_COLUMN)}` : ""})${replace} FROM ${history} ` +
      `QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY ${newest}) = 1${deletes ? ` AND ${quoteIdent(DELETED_COLUMN)} IS NOT TRUE` : ""}`,
  );
  // Batches are only ever appended to the state, so their count orders what two readers saw.
  return { [bronzeRoot(input)]: state?.batches.length ?? 0 };
}
