// MySQL identifiers: quoted with backquotes (a backquote doubled), and a declared table name split into
// its database and table, whichever quoting the declaration used.

import { SourceError } from "../../errors.ts";

/** `` my `col` `` → `` `my ``col``` ``. Works whatever sql_mode says (ANSI_QUOTES only adds `"`). */
export function quoteMysqlIdent(name: string): string {
  if (name.includes("\0")) throw new SourceError(`identifier ${JSON.stringify(name)} holds NUL`);
  return `\`${name.replace(/`/g, "``")}\``;
}

export function quoteMysqlQualified(parts: readonly string[]): string {
  return parts.map(quoteMysqlIdent).join(".");
}

/**
 * Split a declared table: `shop.orders`, `` `my db`.`Order Lines` ``, `"my db"."Order Lines"` or
 * `orders` (in the connection's database). Quoted parts keep everything, dots included.
 */
export function splitMysqlTable(name: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    const quote = name[i];
    if (quote === "`" || quote === '"') {
      let part = "";
      i++;
      for (;;) {
        if (i >= name.length) throw new SourceError(`table "${name}": unterminated ${quote}`);
        if (name[i] === quote && name[i + 1] === quote) { part += quote; i += 2; }
        else if (name[i] === quote) { i++; break; }
        else part += name[i++];
      }
      parts.push(part);
    } else {
      const end = name.indexOf(".", i);
      parts.push(name.slice(i, end === -1 ? name.length : end).trim());
      i = end === -1 ? name.length : end;
    }
    if (i < name.length && name[i] !== ".") throw new SourceError(`table "${name}": expected "." after a quoted name`);
    if (name[i] === ".") {
      i++;
      if (i === name.length) parts.push("");
    }
  }
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => p === "")) {
    throw new SourceError(`table "${name}": expected "database.table" or "table" (quote names holding dots with \`…\`)`);
  }
  return parts;
}
