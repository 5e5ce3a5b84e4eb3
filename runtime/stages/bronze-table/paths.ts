// Where a bronze table's batches live in the lake, and how their load ids are made (time-sortable).

import type { BronzeTable } from "../../declare/stages.ts";
import { lakePath, sortableId } from "../../lake/lake.ts";

export function bronzeRoot(stage: BronzeTable): string {
  return lakePath("bronze", stage.source.name, stage.name);
}

/** A new load id: time-sortable, so batches sort by load order. */
export function newLoadId(): string {
  return sortableId();
}

/** `2026-11-24` from a load id: the `load_date=` folder its files go in. */
export function loadDateOf(loadId: string): string {
  return `${loadId.slice(0, 4)}-${loadId.slice(4, 6)}-${loadId.slice(6, 8)}`;
}
