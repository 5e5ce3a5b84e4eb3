// Expose a model's inputs to DuckDB as views named after them, each the way its kind says (a bronze
// input as the latest row per primary key, a published one as its current version; see each kind's
// `views`). The versions read are returned, so what the model publishes records what it was computed from.

import type { DuckDBConnection } from "@duckdb/node-api";
import type { Stage } from "../declare/stages.ts";
import type { Lake } from "../lake/lake.ts";
import type { InputVersions } from "../lake/publish-guard.ts";
import { kindOf } from "./index.ts";
import type { InputReader } from "./kind.ts";

export async function registerInputs(
  con: DuckDBConnection,
  lake: Lake,
  reader: InputReader,
  inputs: Readonly<Record<string, Stage>>,
): Promise<InputVersions> {
  const versions: Record<string, number> = {};
  for (const [view, input] of Object.entries(inputs)) {
    Object.assign(versions, await kindOf(input).views.register(con, lake, view, input, reader));
  }
  return versions;
}

/** Views besides the main one that an input offers: a bronze input has `__history`, a dedup its entities and links. */
export function companionViews(input: Stage): readonly string[] {
  return kindOf(input).views.companions;
}
