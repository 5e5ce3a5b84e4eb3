// Resources of a gold model: an alert rule when it declares `fail` checks, nothing otherwise.

import type { GoldModel, Pipeline } from "../../runtime/declare/index.ts";
import { modelNeeds } from "./model-alerts.ts";
import type { StageNeeds } from "./needs.ts";

export function goldModelNeeds(stage: GoldModel, pipeline: Pipeline): StageNeeds {
  return modelNeeds(stage, pipeline);
}
