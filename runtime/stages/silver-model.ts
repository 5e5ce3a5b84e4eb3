// The run side of `silver.model`: a SQL or TypeScript model with checks, run as one task (model.ts).
import type { SilverModel } from "../declare/stages.ts";
import type { StageKindModule } from "./kind.ts";
import { modelKind } from "./model-kind.ts";

export const silverModel: StageKindModule<SilverModel> = modelKind();
