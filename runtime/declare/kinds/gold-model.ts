// Declaration side of `gold.model`: `{ gold: revenue, from: clean, sql: … }` (see model.ts).
import { gold, type GoldModel } from "../stages.ts";
import type { DeclaredKind } from "./kind.ts";
import { modelKind } from "./model.ts";

export const goldModel: DeclaredKind<GoldModel> = modelKind("gold", gold.model);
