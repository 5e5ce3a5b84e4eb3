// Column-level lineage of a SQL model, from DuckDB's own parser (`json_serialize_sql`): for each output
// column, the input columns its expression reads (`orders.total`). CTEs, subqueries, joins, aliases,
// `*` (with EXCLUDE) and set operations are followed; filters and join keys are not counted as sources,
// only what a column's value is computed from. Resolution needs the inputs' columns, so it runs where the
// model runs, against the views it reads.

import type { DuckDBConnection } from "@duckdb/node-api";
import { queryRows } from "../engine/engine.ts";
import { quoteIdent, quoteLiteral } from "../engine/sql.ts";

import type { ColumnLineage } from "../state/run-records.ts";

export type { ColumnLineage };

interface Column {
  readonly name: string;
  readonly sources: ReadonlySet<string>;
}

interface Relation {
  /** The names a column reference may qualify it by: its alias, else its table name. */
  readonly names: readonly string[];
  readonly columns: readonly Column[];
}

/** What the resolver knows: the inputs' columns and the CTEs in scope. */
interface Scope {
  readonly inputs: ReadonlyMap<string, readonly string[]>;
  readonly ctes: ReadonlyMap<string, readonly Column[]>;
  /** Relations of enclosing queries, for correlated subqueries. */
  readonly outer: readonly Relation[];
}

type Ast = Record<string, unknown>;

/**
 * Lineage of `sql` over the views in `inputs`, for the output columns `outputs` (in order, as DuckDB
 * named them). Undefined when DuckDB cannot serialise the statement (it then has no lineage to show).
 */
export async function columnLineage(con: DuckDBConnection, sql: string, inputs: ReadonlyMap<string, readonly string[]>, outputs: readonly string[]): Promise<ColumnLineage | undefined> {
  const [{ j }] = await queryRows<{ j: string }>(con, `SELECT json_serialize_sql(${quoteLiteral(sql)}) AS j`);
  const parsed = JSON.parse(j) as { error?: boolean; statements?: { node: Ast }[] };
  if (parsed.error || parsed.statements?.length !== 1) return undefined;
  const columns = resolveQuery(parsed.statements[0].node, { inputs, ctes: new Map(), outer: [] });
  const byPosition = columns.length === outputs.length;
  const lineage: Record<string, readonly string[]> = {};
  outputs.forEach((name, i) => {
    const column = byPosition ? columns[i] : columns.find((c) => c.name === name);
    lineage[name] = column ? [...column.sources].sort() : [];
  });
  return lineage;
}

/** The columns of each view, as DuckDB describes them; a view that does not exist is left out. */
export async function viewColumns(con: DuckDBConnection, views: readonly string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const view of views) {
    try {
      const rows = await queryRows<{ column_name: string }>(con, `SELECT column_name FROM (DESCRIBE ${quoteIdent(view)})`);
      result.set(view, rows.map((r) => r.column_name));
    } catch {
      // An optional companion view (a bronze table's __history before its first load) is not there.
    }
  }
  return result;
}

function resolveQuery(node: Ast, scope: Scope): Column[] {
  const ctes = new Map(scope.ctes);
  for (const entry of ((node.cte_map as { map?: { key: string; value: { query: { node: Ast } } }[] })?.map ?? [])) {
    // Each CTE sees the ones before it.
    ctes.set(entry.key, resolveQuery(entry.value.query.node, { ...scope, ctes }));
  }
  const inner: Scope = { ...scope, ctes };
  if (node.type === "SET_OPERATION_NODE") {
    const left = resolveQuery(node.left as Ast, inner);
    const right = resolveQuery(node.right as Ast, inner);
    // Columns pair up by position and take the left side's names.
    return left.map((c, i) => ({ name: c.name, sources: new Set([...c.sources, ...(right[i]?.sources ?? [])]) }));
  }
  if (node.type !== "SELECT_NODE") return [];
  const relations = fromRelations(node.from_table as Ast | undefined, inner);
  const columns: Column[] = [];
  for (const expr of (node.select_list as Ast[]) ?? []) {
    if (expr.class === "STAR" && !expr.expr) {
      const relation = expr.relation_name as string;
      const excluded = new Set(((expr.exclude_list as unknown[]) ?? []).map((e) => (typeof e === "string" ? e : String((e as { name?: string }).name ?? ""))));
      for (const r of relation ? relations.filter((r) => r.names.includes(relation)) : relations) {
        for (const c of r.columns) if (!excluded.has(c.name)) columns.push(c);
      }
      continue;
    }
    const sources = new Set<string>();
    collectSources(expr, relations, inner, sources);
    const refName = expr.class === "COLUMN_REF" ? (expr.column_names as string[]).at(-1)! : "";
    columns.push({ name: (expr.alias as string) || refName, sources });
  }
  return columns;
}

function fromRelations(ref: Ast | undefined, scope: Scope): Relation[] {
  if (!ref) return [];
  const alias = ref.alias as string;
  switch (ref.type) {
    case "BASE_TABLE": {
      const table = ref.table_name as string;
      const names = [alias || table];
      const cte = scope.ctes.get(table);
      if (cte) return [{ names, columns: cte }];
      const columns = scope.inputs.get(table) ?? [];
      return [{ names, columns: columns.map((c) => ({ name: c, sources: new Set([`${table}.${c}`]) })) }];
    }
    case "SUBQUERY":
      return [{ names: alias ? [alias] : [], columns: resolveQuery((ref.subquery as { node: Ast }).node, scope) }];
    case "JOIN":
      return [...fromRelations(ref.left as Ast, scope), ...fromRelations(ref.right as Ast, scope)];
    default:
      return [];
  }
}

/** Every input column an expression reads, through nested functions, cases, windows and subqueries. */
function collectSources(value: unknown, relations: readonly Relation[], scope: Scope, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectSources(v, relations, scope, into);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const expr = value as Ast;
  if (expr.class === "COLUMN_REF") {
    for (const s of resolveColumn(expr.column_names as string[], [...relations, ...scope.outer])) into.add(s);
    return;
  }
  if (expr.class === "SUBQUERY" && expr.subquery) {
    const columns = resolveQuery((expr.subquery as { node: Ast }).node, { ...scope, outer: [...relations, ...scope.outer] });
    for (const c of columns) for (const s of c.sources) into.add(s);
    for (const key of ["child", "children"]) collectSources(expr[key], relations, scope, into);
    return;
  }
  for (const [key, v] of Object.entries(value)) if (key !== "subquery") collectSources(v, relations, scope, into);
}

function resolveColumn(names: readonly string[], relations: readonly Relation[]): ReadonlySet<string> {
  const column = names.at(-1)!;
  if (names.length >= 2) {
    const relation = relations.find((r) => r.names.includes(names.at(-2)!));
    return relation?.columns.find((c) => c.name === column)?.sources ?? new Set();
  }
  for (const r of relations) {
    const found = r.columns.find((c) => c.name === column);
    if (found) return found.sources;
  }
  return new Set();
}
