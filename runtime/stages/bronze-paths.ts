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
