// Oracle identifiers: always double-quoted (so mixed case, spaces and reserved words are kept exactly as
// the catalog stores them; Oracle allows no `"` inside a name), and a declared table split into owner and
// name the way Oracle reads it: an unquoted part is upper-cased, a "quoted" one kept as written.

import { ConfigError, SourceError } from "../../errors.ts";

export function quoteOracleIdent(name: string): string {
  if (name.includes('"') || name.includes("\0")) throw new SourceError(`identifier ${JSON.stringify(name)} holds a character Oracle names cannot hold`);
  return `"${name}"`;
}

export function quoteOracleQualified(address: readonly string[]): string {
  return address.map(quoteOracleIdent).join(".");
}

/**
 * `hr.employees` → ["HR", "EMPLOYEES"]; `"Sales"."Order Lines"` → ["Sales", "Order Lines"]; `employees`
 * → [undefined, "EMPLOYEES"] (the connection's current schema, found when the table is described).
 */
export function parseOracleTable(table: string): [string | undefined, string] {
  const parts: string[] = [];
  let i = 0;
  while (i < table.length) {
    if (table[i] === '"') {
      const close = table.indexOf('"', i + 1);
      if (close === -1) throw new ConfigError([`table "${table}": an unclosed "`]);
      parts.push(table.slice(i + 1, close));
      i = close + 1;
    } else {
      const dot = table.indexOf(".", i);
      const end = dot === -1 ? table.length : dot;
      const part = table.slice(i, end).trim();
      if (/[\s"]/.test(part)) throw new ConfigError([`table "${table}": "${part}" must be quoted ("…") to keep its spaces or case`]);
      parts.push(part.toUpperCase());
      i = end;
    }
    if (i < table.length) {
      if (table[i] !== ".") throw new ConfigError([`table "${table}": expected "." after a quoted name`]);
      i++;
      if (i === table.length) parts.push("");
    }
  }
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => !p)) throw new ConfigError([`table "${table}": expected owner.table or table (quote mixed-case names: "Sales"."Order Lines")`]);
  return parts.length === 2 ? [parts[0], parts[1]] : [undefined, parts[0]];
}
