// Every SQL snippet a declaration holds (prepare entries, comparison expressions, blocking parts) is bound
// against the input before anything runs: a typo is a one-line error naming the stage and field, not a
// DuckDB error halfway through, and the types found tell which blocking parts are lists.

import type { DuckDBConnection } from "@duckdb/node-api";
import { ConfigError } from "../errors.ts";
import type { Model, NormalRule } from "./model.ts";
import { quoteIdent } from "./sql.ts";

/** A row of the input with the prepared columns added: what blocking and comparison SQL is written over. */
export function preparedRowsSql(model: Model, input: string): string {
  const prepared = model.prepared.map((p) => `${p.sql} AS ${quoteIdent(p.name)}`);
  return `(SELECT ${["*", ...prepared].join(", ")} FROM ${input})`;
}

async function typeOf(con: DuckDBConnection, sql: string, from: string, stage: string, field: string): Promise<string> {
  try {
    const reader = await con.runAndReadAll(`DESCRIBE SELECT ${sql} AS v FROM ${from}`);
    return String(reader.getRowObjectsJS()[0].column_type);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new ConfigError([`stage "${stage}": ${field}: ${message}`]);
  }
}

/**
 * Bind every expression against `input`; throws a ConfigError naming the field of the first bad one.
 * Marks rule parts whose value is a list (`listPart`); a rule may have one.
 */
export async function checkExpressions(con: DuckDBConnection, model: Model, input: string, stage: string): Promise<void> {
  for (const p of model.prepared) await typeOf(con, p.sql, input, stage, p.field);
  const rows = preparedRowsSql(model, input);
  const probe = async (rules: NormalRule[], field: string) => {
    for (const [i, rule] of rules.entries()) {
      const lists: number[] = [];
      for (const [j, expr] of rule.exprs.entries()) {
        const type = await typeOf(con, expr, rows, stage, `${field}[${i}]`);
        if (type.endsWith("[]")) lists.push(j);
      }
      if (lists.length > 1) {
        throw new ConfigError([`stage "${stage}": ${field}[${i}]: more than one list (${lists.map((j) => rule.parts[j]).join(", ")}); a rule pairs records sharing an element of one list`]);
      }
      rule.listPart = lists[0] ?? -1;
    }
  };
  await probe(model.blocking, "blocking");
  if (model.training !== model.blocking) await probe(model.training, "training.blocking");
}
