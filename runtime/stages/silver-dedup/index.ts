// The run side of `silver.dedup`: one task (run.ts); a model that reads it sees the deduplicated table,
// `__entities` (record id → entity id) and `__links` (why records were merged).

import type { SilverDedup } from "../../declare/stages.ts";
import { noStatus, oneTask, type StageKindModule } from "../kind.ts";
import { publishedViews } from "../published-views.ts";

export const silverDedup: StageKindModule<SilverDedup> = {
  tasks: oneTask,
  run: async (ctx) => (await import("./run.ts")).runSilverDedup(ctx),
  views: publishedViews(["__entities", "__links"]),
  describe: (stage) => `dedup of ${stage.from.name} by ${stage.spec.id}, ${Object.keys(stage.spec.compare).length} comparisons`,
  status: noStatus,
};
