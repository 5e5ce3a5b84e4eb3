// T-SQL identifiers: [bracketed], a `]` inside doubled; `schema.table` addresses split on dots outside
// "…" or […] quotes (dbo by default).

import { ConfigError } from "../../errors.ts";

export function quoteMssqlIdent(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}

export function quoteMssqlQualified(address: readonly string[]): string {
  return address.map(quoteMssqlIdent).join(".");
}

/** `sales.orders` → ["sales", "orders"]; `orders` → ["dbo", "orders"]; `"Odd.Name"` and `[Odd.Name]` keep their dot. */
export function parseMssqlTable(table: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < table.length) {
    const open = table[i];
    if (open === '"' || open === "[") {
      const close = open === "[" ? "]" : '"';
      let name = "";
      i++;
      for (;;) {
        if (i >= table.length) throw new ConfigError([`table "${table}": an unclosed ${open}`]);
        if (table[i] === close) {
          if (table[i + 1] === close) { name += close; i += 2; continue; }
          i++;
          break;
        }
        name += table[i++];
      }
      parts.push(name);
    } else {
      const dot = table.indexOf(".", i);
      const end = dot === -1 ? table.length : dot;
      parts.push(table.slice(i, end).trim());
      i = end;
    }
    if (i < table.length) {
      if (table[i] !== ".") throw new ConfigError([`table "${table}": expected "." after a quoted name`]);
      i++;
    }
  }
  if (parts.length === 1) return ["dbo", parts[0]];
  if (parts.length !== 2 || parts.some((p) => !p)) throw new ConfigError([`table "${table}": expected schema.table (or table, in dbo)`]);
  return parts;
}
