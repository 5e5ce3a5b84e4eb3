// The engine's own fence around model SQL, check SQL and TypeScript transforms: after setup, DuckDB may
// touch only the folders Mallard itself needs (its work folder, the lake's table folders), loads and
// installs no extension, and no statement can change a setting again. The load-time check
// (config/sql-policy.ts) refuses the same SQL earlier with a clearer message; this is the layer that
// holds when that check is bypassed (a deployed bundle, a transform building SQL at run time).

import type { DuckDBConnection } from "@duckdb/node-api";
import { join, resolve, sep } from "node:path";
import type { Lake } from "../lake/lake.ts";
import { quoteLiteral } from "./sql.ts";

/** What the engine may reach besides its work folder. */
export interface EngineAccess {
  /** Folders DuckDB may read and write, recursively. @example ["/srv/lake/silver"] */
  readonly directories?: readonly string[];
  /** Single files DuckDB may read and write. */
  readonly paths?: readonly string[];
}

/** The lake folders DuckDB reads tables from (and only those: not `_mallard/` with state and run records). */
export const TABLE_FOLDERS = ["bronze", "silver", "gold"] as const;

/**
 * What an engine serving `lake` needs: the table folders where `localFiles` returns paths (the lake's own
 * folder, or a remote lake's cache). A lake with no local folder needs nothing.
 */
export function lakeAccess(lake: Lake | undefined): EngineAccess {
  const root = lake?.localRoot;
  return root ? { directories: TABLE_FOLDERS.map((folder) => join(root, folder)) } : {};
}

/**
 * Lock the engine: the last statements run on it before any user SQL. The order matters: the allowed
 * folders can only be set while external access is still on, and nothing can be set once the
 * configuration is locked.
 */
export async function lockDown(con: DuckDBConnection, workDir: string, access: EngineAccess): Promise<void> {
  for (const statement of lockDownStatements(workDir, access)) await con.run(statement);
}

/** The statements of `lockDown`, in order (an encoder worker runs them on its own DuckDB). */
export function lockDownStatements(workDir: string, access: EngineAccess): string[] {
  // A trailing separator: DuckDB matches allowed directories as prefixes, and `/lake` must not admit `/lake-secrets`.
  const directories = [workDir, ...(access.directories ?? [])].map((d) => resolve(d) + sep);
  const paths = (access.paths ?? []).map((p) => resolve(p));
  return [
    `SET allowed_directories = [${directories.map(quoteLiteral).join(", ")}]`,
    `SET allowed_paths = [${paths.map(quoteLiteral).join(", ")}]`,
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",
  ];
}
