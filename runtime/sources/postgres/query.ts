// How PostgreSQL spells a read: identifiers and literals through the one quoting helper, look-back as
// interval arithmetic, row comparisons for composite cursors (a btree index on the cursor serves both
// the predicate and the order), and each column's select expression from the type mapping.

import { quoteIdent, quoteLiteral, quoteQualified } from "../../engine/sql.ts";
import type { SourceColumn } from "../source.ts";
import type { SqlSource } from "../sql/select.ts";
import { isSelectedAsIs, pgSelectExpression } from "./types.ts";

export const POSTGRES_SQL: SqlSource = {
  ident: quoteIdent,
  // An untyped literal: PostgreSQL types it as the column it is compared with, exactly.
  literal: (value) => quoteLiteral(value),
  minusSeconds: (literal, column, seconds) =>
    `CAST(${literal} AS ${column.duckType === "TIMESTAMPTZ" ? "timestamptz" : "timestamp"}) - CAST(${quoteLiteral(`${seconds} seconds`)} AS interval)`,
  rowComparison: true,
  table: quoteQualified,
  selectExpression: pgSelectExpression,
};

/** Why a column cannot be a PostgreSQL cursor (its text is rewritten on the way out), or undefined. */
export function refuseCursor(column: SourceColumn): string | undefined {
  return isSelectedAsIs(column) ? undefined : `has type ${column.sourceType}`;
}
