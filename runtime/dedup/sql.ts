// SQL text helpers for the dedup engine: the one place identifiers are quoted and literals escaped.
// Kept local until runtime/engine/sql.ts exists; the names match so the switch is an import change.

/** Quote an identifier for DuckDB: `my "col"` → `"my ""col"""`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote a string (or number/boolean/null) as a DuckDB literal. */
export function quoteLiteral(value: string | number | boolean | null): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** A DOUBLE literal, always with a decimal point so integer division never happens. */
export function quoteDouble(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return `CAST(${value.toExponential(17)} AS DOUBLE)`;
}
