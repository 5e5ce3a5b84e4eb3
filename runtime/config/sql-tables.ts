// What a SQL text reads, from DuckDB's own parser (json_serialize_sql): its statements, the tables it
// names (minus its CTEs) and the table functions it calls. Used to refuse a model that reads a table it
// did not declare as an input, or reaches outside its inputs (sql-policy.ts).

import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows } from "../engine/engine.ts";
import { quoteLiteral } from "../engine/sql.ts";

export interface ParsedSql {
  /** SELECT statements found (json_serialize_sql serialises nothing else: any other statement is an error). */
  readonly statements: number;
  readonly tables: ReadonlySet<string>;
  /** Table functions called anywhere (FROM, joins, subqueries), lower case. */
  readonly tableFunctions: ReadonlySet<string>;
  readonly error?: string;
}

export async function tablesReadBy(con: DuckDBConnection, sql: string): Promise<ParsedSql> {
  const [{ j }] = await queryRows<{ j: string }>(con, `SELECT json_serialize_sql(${quoteLiteral(sql)}) AS j`);
  const tree = JSON.parse(j) as { error: boolean; error_message?: string; statements?: unknown[] };
  if (tree.error) return { statements: 0, tables: new Set(), tableFunctions: new Set(), error: tree.error_message ?? "cannot parse SQL" };
  const tables = new Set<string>();
  const tableFunctions = new Set<string>();
  const ctes = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== "object" || node === null) return;
    const record = node as Record<string, unknown>;
    if (record.type === "BASE_TABLE" && typeof record.table_name === "string") {
      const schema = typeof record.schema_name === "string" && record.schema_name ? `${record.schema_name}.` : "";
      tables.add(`${schema}${record.table_name}`);
    }
    if (record.type === "TABLE_FUNCTION") {
      const call = record.function as { function_name?: unknown; schema?: unknown } | undefined;
      const schema = typeof call?.schema === "string" && call.schema ? `${call.schema}.` : "";
      tableFunctions.add(`${schema}${String(call?.function_name ?? "?")}`.toLowerCase());
    }
    const cteMap = record.cte_map as { map?: { key: string }[] } | undefined;
    cteMap?.map?.forEach((entry) => ctes.add(entry.key));
    Object.values(record).forEach(walk);
  };
  walk(tree.statements);
  return { statements: tree.statements?.length ?? 0, tables: new Set([...tables].filter((t) => !ctes.has(t))), tableFunctions };
}
