// The run side shared by silver and gold models: one task, run by model.ts; readers see the current
// version; `mallard plan` lists the inputs and the number of checks.

import { inputsOf } from "../declare/pipeline.ts";
import type { GoldModel, SilverModel } from "../declare/stages.ts";
import { noStatus, oneTask, type StageKindModule } from "./kind.ts";
import { publishedViews } from "./published-views.ts";

export function modelKind<S extends SilverModel | GoldModel>(): StageKindModule<S> {
  return {
    tasks: oneTask,
    run: async (ctx) => (await import("./model.ts")).runModel(ctx),
    views: publishedViews(),
    describe(stage) {
      const inputs = Object.entries(inputsOf(stage)).map(([view, s]) => (view === s.name ? view : `${view}=${s.name}`));
      return `from ${inputs.join(", ")}${stage.checks.length ? `, ${stage.checks.length} checks` : ""}`;
    },
    status: noStatus,
  };
}
