// Reading a table's shape from pg_catalog: its columns in attnum order with their declared types, and the
// underlying types (domains unwrapped, arrays' element kind) the type mapping needs.

import type pg from "pg";
import { quoteQualified, splitQualified } from "../../engine/sql.ts";
import { SourceError } from "../../errors.ts";
import type { ResourceSchema } from "../source.ts";
import { type CatalogColumn, toSourceColumn } from "./types.ts";

const TABLE_SQL = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

const COLUMNS_SQL = `
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS source_type,
       format_type(b.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS base_type,
       b.typtype AS typtype,
       e.typtype AS element_typtype,
       a.attndims AS dimensions,
       NOT a.attnotnull AS nullable
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

interface ColumnRow {
  name: string;
  source_type: string;
  base_type: string;
  typtype: string;
  element_typtype: string | null;
  dimensions: number;
  nullable: boolean;
}

/**
 * Columns and types of `table` (`schema.table`, parts quoted when they hold dots, quotes or capitals:
 * `"My Schema"."Order Lines"`; an unqualified name is found through the search_path).
 */
export async function describeTable(client: pg.Client, table: string, where: string): Promise<ResourceSchema> {
  const parts = splitQualified(table);
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => p === "")) {
    throw new SourceError(`table "${table}": expected "schema.table" or "table"`);
  }
  // to_regclass parses a quoted name and answers NULL (rather than failing) when there is no such table.
  const regclass = quoteQualified(parts);
  const found = await client.query<{ schema: string; name: string }>(TABLE_SQL, [regclass]);
  if (found.rowCount === 0) throw new SourceError(`table ${regclass} not found in PostgreSQL ${where}`);
  const { schema, name } = found.rows[0];
  const rows = await client.query<ColumnRow>(COLUMNS_SQL, [quoteQualified([schema, name])]);
  const columns = rows.rows.map((r) => toSourceColumn(catalogColumn(r)));
  if (columns.length === 0) throw new SourceError(`table ${regclass} in PostgreSQL ${where} has no columns`);
  return { label: quoteQualified([schema, name]), address: [schema, name], columns };
}

function catalogColumn(row: ColumnRow): CatalogColumn {
  return {
    name: row.name,
    sourceType: row.source_type,
    baseType: row.base_type,
    typtype: row.typtype,
    elementTyptype: row.element_typtype ?? undefined,
    dimensions: Number(row.dimensions),
    nullable: row.nullable,
  };
}
