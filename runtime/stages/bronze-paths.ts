// Where a bronze table's batches live in the lake, and how their load ids are made (time-sortable).

import { randomUUID } from "node:crypto";
import type { BronzeTable } from "../declare/stages.ts";
import { lakePath } from "../lake/lake.ts";

export function bronzeRoot(stage: BronzeTable): string {
  return lakePath("bronze", stage.source.name, stage.name);
}

export function newLoadId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, "")}-${randomUUID().slice(0, 8)}`;
}

/** `2026-11-24` from a load id: the `load_date=` folder its files go in. */
export function loadDateOf(loadId: string): string {
  return `${loadId.slice(0, 4)}-${loadId.slice(4, 6)}-${loadId.slice(6, 8)}`;
}
