// Where a bronze table's batches live in the lake, and how their load ids are made (time-sortable).

import type { BronzeTable } from "../../declare/stages.ts";
import { lakePath, sortableId } from "../../lake/lake.ts";
import { LOAD_DATE_COLUMN } from "./log.ts";

/**
 * Where a new bronze table goes: keyed by pipeline and stage, `bronze/<source>/<pipeline>.<stage>`, so two
 * pipelines with a stage of the same name on one lake each have their own table and checkpoint. The dot
 * joins them in one folder name because no name may hold a dot (names are identifiers): a keyed root can
 * never equal, or sit inside, a table of the earlier layout (see legacyBronzeRoot), so vacuum of an old
 * table never sees a new one's files as its own. Which root a stage's table has is table-root.ts's call.
 */
export function keyedBronzeRoot(pipeline: string, stage: BronzeTable): string {
  return lakePath("bronze", stage.source.name, `${pipeline}.${stage.name}`);
}

/** Where a bronze table was before tables were keyed by pipeline: `bronze/<source>/<stage>`. */
export function legacyBronzeRoot(stage: BronzeTable): string {
  return lakePath("bronze", stage.source.name, stage.name);
}

/** A new load id: time-sortable, so batches sort by load order. */
export function newLoadId(): string {
  return sortableId();
}

/**
 * `_load_date=2026-11-24` from a load id: the folder its files go in. The key is bronze's partition column
 * (log.ts), which no source column may take, so a reader using hive partitioning never has a source
 * column (such as `load_date`) replaced by the folder's value.
 */
export function loadDateFolder(loadId: string): string {
  return `${LOAD_DATE_COLUMN}=${loadId.slice(0, 4)}-${loadId.slice(4, 6)}-${loadId.slice(6, 8)}`;
}

/** `2026-11-24` from a load id: its `_load_date` partition. */
export function loadDateOf(loadId: string): string {
  return `${loadId.slice(0, 4)}-${loadId.slice(4, 6)}-${loadId.slice(6, 8)}`;
}
