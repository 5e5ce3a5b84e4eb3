// Where a bronze table's batches live in the lake, and how their load ids are made (time-sortable).

import type { BronzeTable } from "../../declare/stages.ts";
import { lakePath, sortableId } from "../../lake/lake.ts";
import { LOAD_DATE_COLUMN } from "./log.ts";

export function bronzeRoot(stage: BronzeTable): string {
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
