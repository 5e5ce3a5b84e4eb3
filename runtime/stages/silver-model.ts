// Run code of `silver.model`: a SQL or TypeScript model with checks (see model.ts).
import type { SilverModel } from "../declare/stages.ts";
import type { StageContext, StageOutcome } from "./context.ts";
import { runModel } from "./model.ts";

export const runSilverModel = (ctx: StageContext<SilverModel>): Promise<StageOutcome> => runModel(ctx);
