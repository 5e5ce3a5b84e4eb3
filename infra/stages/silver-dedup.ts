// Resources of a silver.dedup stage: none of its own. It reads and writes the lake containers that exist
// already, its saved model parameters live under the state container, and a run it fails (a pair budget
// exceeded, say) raises the pipeline's run-failed alert.

import type { SilverDedup } from "../../runtime/declare/index.ts";
import { noNeeds, type StageNeeds } from "./needs.ts";

export function silverDedupNeeds(_stage: SilverDedup): StageNeeds {
  return noNeeds;
}
