// Run code of `gold.model`: an aggregate or metric, published atomically (see model.ts).
import type { GoldModel } from "../declare/stages.ts";
import type { StageContext, StageOutcome } from "./context.ts";
import { runModel } from "./model.ts";

export const runGoldModel = (ctx: StageContext<GoldModel>): Promise<StageOutcome> => runModel(ctx);
