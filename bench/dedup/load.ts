// Load a labelled file for the dedup benchmark: every column read as text, trimmed, '' as NULL (FEBRL
// pads fields with a space), plus a truth table (id, truth) from a column or SQL expression.

import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "../../runtime/dedup/sql.ts";

function reader(file: string): string {
  const path = quoteLiteral(file);
  return file.endsWith(".parquet") ? `read_parquet(${path})` : `read_csv(${path}, all_varchar = true, header = true)`;
}

/** Create `table` (cleaned data, truth column removed) and `<table>_truth` (id, truth). */
export async function loadLabelled(
  con: DuckDBConnection,
  file: string,
  table: string,
  id: string,
  truth: string,
): Promise<number> {
  const raw = quoteIdent(`${table}_raw`);
  const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${reader(file)}`))
    .getRowObjectsJS()
    .map((r) => String(r.column_name));
  const cleaned = columns.map((c) => `nullif(trim(CAST(${quoteIdent(c)} AS VARCHAR)), '') AS ${quoteIdent(c.trim())}`);
  await con.run(`CREATE OR REPLACE TABLE ${raw} AS SELECT ${cleaned.join(", ")} FROM ${reader(file)}`);
  // The truth may be a column or an expression over the cleaned columns (FEBRL derives it from rec_id).
  const truthExpr = columns.map((c) => c.trim()).includes(truth) ? quoteIdent(truth) : `(${truth})`;
  await con.run(`CREATE OR REPLACE TABLE ${quoteIdent(`${table}_truth`)} AS
    SELECT ${quoteIdent(id)} AS id, CAST(${truthExpr} AS VARCHAR) AS truth FROM ${raw}`);
  const keep = columns.map((c) => c.trim()).filter((c) => c !== truth);
  await con.run(`CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT ${keep.map(quoteIdent).join(", ")} FROM ${raw}`);
  await con.run(`DROP TABLE ${raw}`);
  const n = await con.runAndReadAll(`SELECT count(*) AS n FROM ${quoteIdent(table)}`);
  return Number(n.getRowObjectsJS()[0].n);
}
