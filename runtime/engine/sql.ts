// The one place SQL identifiers are quoted and values escaped. Never concatenate either by hand.

/** Quote an identifier for DuckDB or PostgreSQL: `my "col"` → `"my ""col"""`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quote a possibly schema-qualified name whose parts are already split. */
export function quoteQualified(parts: readonly string[]): string {
  return parts.map(quoteIdent).join(".");
}

/** A SQL string literal: `it's` → `'it''s'`. Rejects NUL, which no SQL string may hold. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("a SQL literal cannot contain NUL");
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL literal for a scalar: numbers and booleans as they are, strings quoted, null as NULL. */
export function sqlValue(value: string | number | bigint | boolean | null): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  return quoteLiteral(value);
}

/**
 * Split a possibly quoted, schema-qualified name: `public.orders` → ["public", "orders"],
 * `"My Schema"."Order ""Lines"""` → ["My Schema", `Order "Lines"`]. Unquoted parts keep their case.
 */
export function splitQualified(name: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    if (name[i] === '"') {
      let part = "";
      i++;
      while (i < name.length) {
        if (name[i] === '"' && name[i + 1] === '"') { part += '"'; i += 2; }
        else if (name[i] === '"') { i++; break; }
        else part += name[i++];
      }
      parts.push(part);
    } else {
      const end = name.indexOf(".", i);
      parts.push(name.slice(i, end === -1 ? name.length : end));
      i = end === -1 ? name.length : end;
    }
    if (name[i] === ".") i++;
  }
  return parts;
}
