// The SELECT a COPY runs for an extraction: every column in schema order, the cursor and range
// predicates with values escaped by the one literal helper, and the cursor order chunks are cut along.

import { quoteIdent, quoteLiteral, quoteQualified } from "../../engine/sql.ts";
import { SourceError } from "../../errors.ts";
import type { ExtractRequest, SourceColumn, TableSchema } from "../source.ts";
import { isSelectedAsIs, pgSelectExpression } from "./types.ts";

const TIME_TYPES = new Set(["DATE", "TIMESTAMP", "TIMESTAMPTZ"]);

export interface ExtractQuery {
  readonly sql: string;
  /** Positions (in the selected columns) of the cursor columns, in cursor order. */
  readonly cursorIndexes: readonly number[];
}

/** Find a column by exact name, or fail naming the table and its columns. */
export function columnOf(schema: TableSchema, name: string, role: string): { column: SourceColumn; index: number } {
  const index = schema.columns.findIndex((c) => c.name === name);
  if (index === -1) {
    throw new SourceError(
      `${role}: column "${name}" not found in ${quoteQualified(schema.table)} (columns: ${schema.columns.map((c) => c.name).join(", ")})`,
    );
  }
  return { column: schema.columns[index], index };
}

/**
 * `SELECT … FROM t WHERE … ORDER BY …` for a request.
 *
 * Incremental loads read rows whose cursor columns are all non-NULL, strictly after the checkpoint as a row
 * comparison `(a, b) > ('…', '…')` (PostgreSQL types each literal as its column, and a btree index on the
 * cursor serves both the predicate and the order). Rows with a NULL cursor value are read by full loads only.
 */
export function buildExtractQuery(request: ExtractRequest): ExtractQuery {
  const { schema } = request;
  const predicates: string[] = [];
  let order = "";
  const cursorIndexes: number[] = [];
  if (request.cursor) {
    const { columns, after, lookBackSeconds, until } = request.cursor;
    if (columns.length === 0) throw new SourceError(`incremental.cursor: at least one column is needed`);
    const cursor = columns.map((name) => columnOf(schema, name, "incremental.cursor"));
    for (const { column, index } of cursor) {
      if (!isSelectedAsIs(column) || column.duckType === "JSON") {
        throw new SourceError(`incremental.cursor: column "${column.name}" has type ${column.sourceType}, which cannot order a cursor`);
      }
      cursorIndexes.push(index);
      predicates.push(`${quoteIdent(column.name)} IS NOT NULL`);
    }
    const names = cursor.map(({ column }) => quoteIdent(column.name));
    if (after) {
      if (after.values.length !== columns.length || after.columns.some((c, i) => c !== columns[i])) {
        throw new SourceError(
          `incremental.cursor: the checkpoint is for (${after.columns.join(", ")}) but the cursor is (${columns.join(", ")}); run a full refresh`,
        );
      }
      const literals = after.values.map((v, i) => {
        if (v === null) throw new SourceError(`incremental.cursor: checkpoint value for "${columns[i]}" is NULL`);
        return quoteLiteral(v);
      });
      if (lookBackSeconds !== undefined && lookBackSeconds > 0) {
        const first = cursor[0].column;
        if (!TIME_TYPES.has(first.duckType)) {
          throw new SourceError(`incremental.lookBack: needs a date or timestamp first cursor column; "${first.name}" is ${first.sourceType}`);
        }
        const pgType = first.duckType === "TIMESTAMPTZ" ? "timestamptz" : "timestamp";
        literals[0] = `CAST(${literals[0]} AS ${pgType}) - CAST(${quoteLiteral(`${lookBackSeconds} seconds`)} AS interval)`;
      }
      predicates.push(`(${names.join(", ")}) > (${literals.join(", ")})`);
    }
    if (until) {
      const literals = until.values.map((v, i) => {
        if (v === null) throw new SourceError(`incremental.cursor: upper bound for "${columns[i]}" is NULL`);
        return quoteLiteral(v);
      });
      predicates.push(`(${names.join(", ")}) <= (${literals.join(", ")})`);
    }
    order = ` ORDER BY ${names.join(", ")}`;
  }
  if (request.range) {
    const { column } = columnOf(schema, request.range.column, "partitions.column");
    const col = quoteIdent(column.name);
    const bounds: string[] = [];
    if (request.range.from !== undefined) bounds.push(`${col} >= ${quoteLiteral(request.range.from)}`);
    if (request.range.to !== undefined) bounds.push(`${col} < ${quoteLiteral(request.range.to)}`);
    // Rows with a NULL partition key belong to no range; one partition takes them so none is lost.
    if (request.range.includeNulls && bounds.length) predicates.push(`((${bounds.join(" AND ")}) OR ${col} IS NULL)`);
    else predicates.push(...bounds);
  }
  const select = schema.columns.map((c) => pgSelectExpression(c)).join(", ");
  const where = predicates.length ? ` WHERE ${predicates.join(" AND ")}` : "";
  return { sql: `SELECT ${select} FROM ${quoteQualified(schema.table)}${where}${order}`, cursorIndexes };
}
