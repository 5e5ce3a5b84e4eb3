// A model's SQL: read from its file (relative to the project root) or inline, and checked so that it
// reads only its declared inputs. Used both when loading a pipeline (validation) and when running it.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { GoldModel, SilverModel } from "../declare/stages.ts";
import { ConfigError } from "../errors.ts";

/** Inline SQL contains whitespace; a file path does not. */
export function isInlineSql(sql: string): boolean {
  return /\s/.test(sql.trim());
}

export function modelSql(stage: SilverModel | GoldModel, projectRoot: string): string {
  const sql = stage.sql!;
  if (isInlineSql(sql)) return stripTerminator(sql);
  const path = resolve(projectRoot, sql);
  try {
    return stripTerminator(readFileSync(path, "utf8"));
  } catch {
    throw new ConfigError([`stage "${stage.name}": sql: file not found: ${sql} (looked in ${projectRoot})`]);
  }
}

function stripTerminator(sql: string): string {
  return sql.trim().replace(/;\s*$/, "");
}
