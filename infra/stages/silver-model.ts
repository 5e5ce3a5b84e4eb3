// Resources of a silver model: an alert rule when it declares `fail` checks, nothing otherwise.

import type { Pipeline, SilverModel } from "../../runtime/declare/index.ts";
import { modelNeeds } from "./model-alerts.ts";
import type { StageNeeds } from "./needs.ts";

export function silverModelNeeds(stage: SilverModel, pipeline: Pipeline): StageNeeds {
  return modelNeeds(stage, pipeline);
}
