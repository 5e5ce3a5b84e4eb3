// The SELECT a SQL source runs for a read request, the same for every database: the requested columns
// through the source's select expressions, the incremental slice's predicates and order (incremental.ts),
// and a partition's range. Identifiers and values go through the source's dialect, never by hand.

import { SourceError } from "../../errors.ts";
import { columnOf, slicePredicates, sliceOrder, type SqlDialect } from "../incremental.ts";
import type { RangeSlice, ReadRequest, SourceColumn } from "../source.ts";

export interface SqlSource extends SqlDialect {
  /** The resource's address as a FROM item. */
  table(address: readonly string[]): string;
  /** What the query selects for a column: the column, or an expression giving its text. */
  selectExpression(column: SourceColumn): string;
}

export interface SelectPlan {
  readonly sql: string;
  /** The selected columns, in order. */
  readonly columns: readonly SourceColumn[];
  /** Positions of the cursor columns among the selected ones, in cursor order. */
  readonly cursorIndexes: readonly number[];
}

/** `SELECT … FROM … WHERE … ORDER BY …` for a request; `extra` expressions are selected after the columns. */
export function buildSelect(request: ReadRequest, source: SqlSource, extra: readonly string[] = []): SelectPlan {
  const { schema, slice } = request;
  const columns = request.columns ? request.columns.map((name) => columnOf(schema, name, "columns")) : schema.columns;
  const predicates: string[] = [];
  const cursorIndexes: number[] = [];
  let order = "";
  if (slice) {
    for (const column of slice.columns) {
      const index = columns.findIndex((c) => c.name === column.name);
      if (index === -1) throw new SourceError(`incremental.cursor: column "${column.name}" is not among the columns read`);
      cursorIndexes.push(index);
    }
    predicates.push(...slicePredicates(slice, source));
    order = ` ORDER BY ${sliceOrder(slice, source)}`;
  }
  if (request.range) predicates.push(...rangePredicates(request.range, columnOf(schema, request.range.column, "partitions.column"), source));
  const select = [...columns.map((c) => source.selectExpression(c)), ...extra].join(", ");
  const where = predicates.length ? ` WHERE ${predicates.join(" AND ")}` : "";
  return { sql: `SELECT ${select} FROM ${source.table(schema.address)}${where}${order}`, columns, cursorIndexes };
}

function rangePredicates(range: RangeSlice, column: SourceColumn, dialect: SqlDialect): string[] {
  const name = dialect.ident(column.name);
  const bounds: string[] = [];
  if (range.from !== undefined) bounds.push(`${name} >= ${dialect.literal(range.from, column)}`);
  if (range.to !== undefined) bounds.push(`${name} < ${dialect.literal(range.to, column)}`);
  // Rows with a NULL partition key belong to no range; one partition takes them so none is lost.
  if (range.includeNulls && bounds.length) return [`((${bounds.join(" AND ")}) OR ${name} IS NULL)`];
  return bounds;
}
