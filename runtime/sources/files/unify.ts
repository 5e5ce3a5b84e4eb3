// One schema for the files of a load: bronze's columns first (when it has any), then each file's columns
// in file order. A column new in a file is added; a file holding a column as a wider type widens it, by
// the same rules bronze's schema evolution follows (schema-compare.ts); a file whose column has another,
// narrower or incompatible type keeps the schema's type and is read as that type — a value that does not
// fit refuses the file at read time, with the value named, instead of changing the table.

import { compareSchemas } from "../schema-compare.ts";
import type { SourceColumn } from "../source.ts";
import type { FileColumn } from "./formats.ts";

export function sourceColumn(column: FileColumn): SourceColumn {
  return { name: column.name, sourceType: column.type, duckType: column.type, nullable: true };
}

/** Bronze's columns (or none) extended by the files' columns, in order. */
export function unifyColumns(base: readonly SourceColumn[], files: readonly (readonly FileColumn[])[], declared: Readonly<Record<string, string>> = {}): SourceColumn[] {
  // A declared type wins over bronze's too: changing it is a schema change bronze's evolution judges.
  const columns = new Map(base.map((c) => [c.name, declared[c.name] === undefined ? c : { ...sourceColumn({ name: c.name, type: declared[c.name] }), nullable: c.nullable }]));
  const fixed = (name: string) => declared[name] !== undefined;
  for (const file of files) {
    for (const column of file) {
      const next = sourceColumn(column);
      const current = columns.get(column.name);
      if (!current) {
        columns.set(column.name, next);
        continue;
      }
      if (fixed(column.name) || current.duckType === next.duckType) continue;
      if (compareSchemas([current], [next]).widened.length) columns.set(column.name, { ...next, nullable: current.nullable });
    }
  }
  for (const [name, type] of Object.entries(declared)) {
    if (!columns.has(name)) columns.set(name, sourceColumn({ name, type }));
  }
  return [...columns.values()];
}
