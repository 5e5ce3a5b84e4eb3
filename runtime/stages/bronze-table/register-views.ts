// What a model sees of a bronze input: `<view>` is the latest row per primary key (a column the source
// dropped reads NULL there), `<view>__history`
// every row of the table's live files (the last full load and every load after it), with the columns
// the table's state knows, typed as the source gave them. Files come from the Delta log, never from a
// folder listing, so a crashed load's files are never read.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { BronzeTable } from "../../declare/stages.ts";
import { quoteIdent, quoteLiteral } from "../../engine/sql.ts";
import { StageError } from "../../errors.ts";
import type { Lake } from "../../lake/lake.ts";
import { dataFilePath } from "../../lake/delta/actions.ts";
import type { AsOf } from "../../lake/delta/replay.ts";
import { duckTypeOf } from "../../lake/delta/schema.ts";
import type { InputVersions } from "../../lake/publish-guard.ts";
import { DELETED_COLUMN, loadIdOf } from "./log.ts";
import { readBronzeTable } from "./state.ts";
import type { InputReader } from "../kind.ts";

/** The views over a bronze table's live files: `<view>` (latest per key, deleted keys dropped) and `<view>__history`. */
export async function registerBronze(con: DuckDBConnection, lake: Lake, view: string, input: BronzeTable, reader: InputReader, asOf?: AsOf): Promise<InputVersions> {
  const { state, snapshot } = await readBronzeTable(lake, con, reader.pipeline, input, asOf);
  const adds = [...(snapshot?.files.values() ?? [])];
  const history = quoteIdent(`${view}__history`);
  const columns = state?.columns ?? [];
  if (!snapshot || (adds.length === 0 && columns.length === 0)) throw new StageError(`input "${input.name}" has not been loaded yet (run it first)`);
  // Every column the table's state knows, typed, even one no loaded row carries yet (added to the source
  // after the last changed row): older files read it as NULL.
  // A table with deletes (key-scan or tombstone records) has rows marking a key deleted: the history
  // shows them, the latest view drops the key.
  const deletes = input.deletes !== undefined;
  const typedColumns = [...columns, ...(deletes ? [{ name: DELETED_COLUMN, duckType: "BOOLEAN" }] : [])];
  const declared = `SELECT ${[...typedColumns.map((c) => `NULL::${c.duckType} AS ${quoteIdent(c.name)}`), "NULL::VARCHAR AS _mallard_load_seq", "NULL::BIGINT AS _mallard_row"].join(", ")} WHERE false`;
  if (adds.length === 0) {
    await con.run(`CREATE OR REPLACE TEMP VIEW ${history} AS ${declared}`);
  } else {
    const files = await lake.localFiles(adds.map((a) => dataFilePath(snapshot.root, a.path)));
    // Load order comes from the log (each file's load id), not from file names, so a remote lake may cache files anywhere.
    const order = quoteIdent(`${view}__load_order`);
    await con.run(`CREATE OR REPLACE TEMP TABLE ${order} (file VARCHAR, seq VARCHAR)`);
    for (let i = 0; i < files.length; i += 1000) {
      const rows = files.slice(i, i + 1000).map((f, j) => `(${quoteLiteral(f)}, ${quoteLiteral(loadIdOf(adds[i + j]))})`).join(", ");
      await con.run(`INSERT INTO ${order} VALUES ${rows}`);
    }
    // Files hold Delta's types (a UUID as text, say): each column is cast back to the type bronze declares.
    const stored = new Map(snapshot.schema.fields.map((f) => [f.name, duckTypeOf(f.type)]));
    const storedEmpty = `SELECT ${[...typedColumns.map((c) => `NULL::${stored.get(c.name) ?? c.duckType} AS ${quoteIdent(c.name)}`), "NULL::VARCHAR AS _mallard_file", "NULL::BIGINT AS _mallard_row"].join(", ")} WHERE false`;
    const list = `[${files.map(quoteLiteral).join(", ")}]`;
    const typed = typedColumns.map((c) => `CAST(data.${quoteIdent(c.name)} AS ${c.duckType}) AS ${quoteIdent(c.name)}`);
    await con.run(
      `CREATE OR REPLACE TEMP VIEW ${history} AS SELECT ${[...typed, "o.seq AS _mallard_load_seq", "data._mallard_row"].join(", ")} ` +
        `FROM (SELECT * EXCLUDE (file_row_number), file_row_number AS _mallard_row FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false, filename = '_mallard_file', file_row_number = true) ` +
        `UNION ALL BY NAME ${storedEmpty}) data ` +
        `JOIN ${order} o ON o.file = data._mallard_file`,
    );
  }
  // The newest load holding a key has its newest version; the cursor breaks ties inside a load, then the
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
  // Versions of the table's log only grow, so they order what two readers saw.
  return { [snapshot.root]: snapshot.version };
}
