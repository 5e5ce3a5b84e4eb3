// The reconciliation checksum as one SELECT on a SQL source: the canonical row hash (runtime/reconcile/
// canonical.ts) summed over the requested columns of the rows in the slice. Text columns hash the very
// text the extraction selects (and bronze stores); typed columns hash their canonical text.

import type { ChecksumDialect } from "../../reconcile/canonical.ts";
import { rowHash, valueClass } from "../../reconcile/canonical.ts";
import { columnOf, slicePredicates } from "../incremental.ts";
import type { ChecksumRequest } from "../source.ts";
import type { SqlSource } from "./select.ts";

/** `SELECT <rows>, <sum> FROM … WHERE <slice>` for a checksum request. */
export function buildChecksumSelect(request: ChecksumRequest, source: SqlSource, dialect: ChecksumDialect): string {
  const columns = request.columns.map((name) => columnOf(request.schema, name, "reconcile.columns"));
  const hash = rowHash(dialect, columns, (c) => (valueClass(c) === "text" ? source.selectExpression(c) : source.ident(c.name)));
  const { rows, sum } = dialect.aggregate(hash);
  const where = request.slice ? ` WHERE ${slicePredicates(request.slice, source).join(" AND ")}` : "";
  return `SELECT ${rows} AS row_count, ${sum} AS hash_sum FROM ${source.table(request.schema.address)}${where}`;
}
