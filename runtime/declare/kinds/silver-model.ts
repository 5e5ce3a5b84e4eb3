// Declaration side of `silver.model`: `{ silver: clean, from: orders, sql: …, checks: […] }` (see model.ts).
import { silver, type SilverModel } from "../stages.ts";
import type { DeclaredKind } from "./kind.ts";
import { modelKind } from "./model.ts";

export const silverModel: DeclaredKind<SilverModel> = modelKind("silver", silver.model);
