// The deduplicated table: one representative record per entity, chosen by the declared survivor rule,
// with the entity id and how many records the entity has.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { SurvivorRule } from "../declare/dedup.ts";
import type { Model, TableNames } from "./model.ts";
import { quoteIdent, quoteLiteral } from "./sql.ts";

/** ORDER BY terms that put the survivor first; the id breaks every tie so the choice is deterministic. */
export function survivorOrder(rule: SurvivorRule, model: Model): string {
  const id = `i.${quoteIdent(model.id)}`;
  switch (rule.kind) {
    case "mostRecent":
      return `i.${quoteIdent(rule.column)} DESC NULLS LAST, ${id}`;
    case "mostComplete": {
      const columns = rule.columns ?? [...new Set(model.comparisons.flatMap((c) => c.sources))];
      const filled = columns.map((c) => `CAST(i.${quoteIdent(c)} IS NOT NULL AS INTEGER)`).join(" + ");
      return `(${filled || "0"}) DESC, ${id}`;
    }
    case "sourcePriority": {
      const order = `[${rule.order.map((v) => quoteLiteral(v)).join(", ")}]`;
      return `coalesce(list_position(${order}, CAST(i.${quoteIdent(rule.column)} AS VARCHAR)), 2147483647), ${id}`;
    }
  }
}

export async function writeDeduped(
  con: DuckDBConnection,
  input: string,
  model: Model,
  names: TableNames,
): Promise<void> {
  const id = quoteIdent(model.id);
  await con.run(`
    CREATE OR REPLACE TABLE ${names.deduped} AS
    SELECT e.entity_id, count(*) OVER (PARTITION BY e.entity_id) AS entity_records, i.*
    FROM ${input} i JOIN ${names.entities} e ON e.${id} = i.${id}
    QUALIFY row_number() OVER (PARTITION BY e.entity_id ORDER BY ${survivorOrder(model.survivor, model)}) = 1`);
}
