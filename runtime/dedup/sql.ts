// SQL text helpers for the dedup engine: identifiers and literals come from the engine's one helper;
// only the DOUBLE literal the scoring SQL needs is added here.

export { quoteIdent, quoteLiteral, sqlValue } from "../engine/sql.ts";

/** A DOUBLE literal, always typed so integer division or DECIMAL rounding never happens. */
export function quoteDouble(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return `CAST(${value.toExponential(17)} AS DOUBLE)`;
}
