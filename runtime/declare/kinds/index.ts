// Every stage kind's declaration side, found by its kind. The map's type makes a kind added to the
// `Stage` union a compile error here until its runtime/declare/kinds/<kind>.ts exists and is listed.
// The order is the order YAML forms are tried and listed in messages.

import type { Stage, StageKind } from "../stages.ts";
import { bronzeTable } from "./bronze-table.ts";
import { goldModel } from "./gold-model.ts";
import type { DeclaredKind, YamlForm } from "./kind.ts";
import { silverDedup } from "./silver-dedup.ts";
import { silverModel } from "./silver-model.ts";

export type { DeclaredKind, YamlContext, YamlForm } from "./kind.ts";

export const DECLARED_KINDS: { readonly [K in StageKind]: DeclaredKind<Extract<Stage, { kind: K }>> } = {
  "bronze.table": bronzeTable,
  "silver.model": silverModel,
  "gold.model": goldModel,
  "silver.dedup": silverDedup,
};

/** The declaration side of a stage's kind. */
export function declaredKind<S extends Stage>(stage: S): DeclaredKind<S> {
  return DECLARED_KINDS[stage.kind as StageKind] as unknown as DeclaredKind<S>;
}

/** Every kind's YAML form, in registry order. */
export const YAML_FORMS: readonly YamlForm<Stage>[] = Object.values(DECLARED_KINDS).map((kind) => kind.yaml as YamlForm<Stage>);
