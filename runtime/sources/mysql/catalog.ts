// Reading a table's shape from information_schema: its columns in ordinal order with their declared
// types, and which LONGTEXT columns are MariaDB's JSON (a `json_valid(col)` check constraint).

import type mysql from "mysql2";
import { SourceError } from "../../errors.ts";
import type { ResourceSchema } from "../source.ts";
import { run } from "./connect.ts";
import { quoteMysqlQualified, splitMysqlTable } from "./identifiers.ts";
import { toSourceColumn } from "./types.ts";

const TABLE_SQL = `
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`;

const COLUMNS_SQL = `
SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`;

// MariaDB's JSON. MySQL has a JSON type, and its CHECK_CONSTRAINTS (8.0.16+) has no TABLE_NAME: the query
// fails there and finds nothing, which is right.
const JSON_CHECKS_SQL = `
SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND CHECK_CLAUSE LIKE 'json_valid(%'`;

/**
 * Columns and types of `table` (`database.table`, or `table` in the connection's database; names
 * compared as the server stores them).
 */
export async function describeTable(connection: mysql.Connection, table: string, where: string): Promise<ResourceSchema> {
  const parts = splitMysqlTable(table);
  const [database, name] = parts.length === 2 ? parts : [null, parts[0]];
  const found = await run(connection, TABLE_SQL, [database, name]);
  if (found.length === 0) throw new SourceError(`table ${quoteMysqlQualified(parts)} not found in ${where}`);
  const address = [found[0][0]!, found[0][1]!];
  const jsonColumns = await jsonChecked(connection, address);
  const rows = await run(connection, COLUMNS_SQL, address);
  const columns = rows.map(([columnName, dataType, columnType, nullable]) =>
    toSourceColumn({
      name: columnName!,
      dataType: dataType!,
      columnType: columnType!,
      nullable: nullable === "YES",
      json: jsonColumns.has(columnName!) && /text$/i.test(dataType!),
    }));
  if (columns.length === 0) throw new SourceError(`table ${quoteMysqlQualified(address)} in ${where} has no columns`);
  return { label: quoteMysqlQualified(address), address, columns };
}

/** Columns with MariaDB's `json_valid(`col`)` check (what its JSON alias declares). */
async function jsonChecked(connection: mysql.Connection, address: readonly string[]): Promise<Set<string>> {
  const rows = await run(connection, JSON_CHECKS_SQL, [...address]).catch(() => [] as (string | null)[][]);
  const names = new Set<string>();
  for (const [clause] of rows) {
    const m = /^json_valid\(`((?:[^`]|``)+)`\)$/.exec(clause ?? "");
    if (m) names.add(m[1].replace(/``/g, "`"));
  }
  return names;
}
