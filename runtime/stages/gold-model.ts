// The run side of `gold.model`: an aggregate or metric, published atomically, run as one task (model.ts).
import type { GoldModel } from "../declare/stages.ts";
import type { StageKindModule } from "./kind.ts";
import { modelKind } from "./model-kind.ts";

export const goldModel: StageKindModule<GoldModel> = modelKind();
