// Every stage kind's run side, found by its kind. The map's type makes a kind added to the `Stage`
// union a compile error here until its module exists and is listed (see docs/adding-a-stage-kind.md).
// Nothing here loads DuckDB: each kind imports its run code when a task runs.

import type { Stage, StageKind } from "../declare/stages.ts";
import { bronzeTable } from "./bronze-table/index.ts";
import { goldModel } from "./gold-model.ts";
import type { StageKindModule } from "./kind.ts";
import { silverDedup } from "./silver-dedup/index.ts";
import { silverModel } from "./silver-model.ts";

export type { InputViews, StageKindModule } from "./kind.ts";

export const STAGE_KINDS: { readonly [K in StageKind]: StageKindModule<Extract<Stage, { kind: K }>> } = {
  "bronze.table": bronzeTable,
  "silver.model": silverModel,
  "gold.model": goldModel,
  "silver.dedup": silverDedup,
};

/** The run side of a stage's kind. */
export function kindOf<S extends Stage>(stage: S): StageKindModule<S> {
  return STAGE_KINDS[stage.kind as StageKind] as unknown as StageKindModule<S>;
}
