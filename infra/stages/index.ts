// Each stage kind's needs, found by its kind: the map's type makes a new stage kind a compile error here
// until its infra/stages/<kind>.ts exists (see docs/adding-a-stage-kind.md). Merges the needs of a whole
// pipeline. A stage's own schedule becomes an app setting here, for every kind that has one.

import type { Pipeline, SecretRef, Stage, StageKind } from "../../runtime/declare/index.ts";
import { declaredKind } from "../../runtime/declare/kinds/index.ts";
import { SCHEDULE_SETTINGS } from "../../runtime/declare/deployment.ts";
import { bronzeTableNeeds } from "./bronze-table.ts";
import { goldModelNeeds } from "./gold-model.ts";
import type { AlertSpec, StageNeeds } from "./needs.ts";
import { pipelineNeeds } from "./pipeline.ts";
import { silverDedupNeeds } from "./silver-dedup.ts";
import { silverModelNeeds } from "./silver-model.ts";

export type { AlertSpec, StageNeeds } from "./needs.ts";

/** What a stage of one kind needs from Azure, computed from its declaration. */
export type KindNeeds<S extends Stage> = (stage: S, pipeline: Pipeline) => StageNeeds;

export const NEEDS: { readonly [K in StageKind]: KindNeeds<Extract<Stage, { kind: K }>> } = {
  "bronze.table": bronzeTableNeeds,
  "silver.model": silverModelNeeds,
  "silver.dedup": silverDedupNeeds,
  "gold.model": goldModelNeeds,
};

/** What one stage needs. */
export function stageNeeds(stage: Stage, pipeline: Pipeline): StageNeeds {
  const needs = (NEEDS[stage.kind] as KindNeeds<Stage>)(stage, pipeline);
  const schedule = declaredKind(stage).schedule(stage);
  return schedule ? { ...needs, appSettings: { ...needs.appSettings, [SCHEDULE_SETTINGS.stage(stage.name)]: schedule } } : needs;
}

/** Everything a pipeline needs, merged: secrets once each, alerts and settings checked for clashes. */
export interface PipelineNeeds {
  secrets: readonly SecretRef[];
  alerts: readonly AlertSpec[];
  appSettings: Readonly<Record<string, string>>;
  /** Most tasks one stage may run at once. */
  parallelism: number;
  warnings: readonly string[];
}

export function collectNeeds(pipeline: Pipeline): PipelineNeeds {
  const all = [pipelineNeeds(pipeline), ...pipeline.stages.map((stage) => stageNeeds(stage, pipeline))];
  const secrets = new Map<string, SecretRef>();
  const alerts = new Map<string, AlertSpec>();
  const appSettings: Record<string, string> = {};
  for (const needs of all) {
    for (const ref of needs.secrets) secrets.set(ref.name, ref);
    for (const alert of needs.alerts) {
      if (alerts.has(alert.key)) throw new Error(`pipeline "${pipeline.name}": two alert rules are called "${alert.key}"`);
      alerts.set(alert.key, alert);
    }
    for (const [key, value] of Object.entries(needs.appSettings)) {
      if (key in appSettings && appSettings[key] !== value) {
        throw new Error(`pipeline "${pipeline.name}": app setting ${key} is needed as "${appSettings[key]}" and "${value}"`);
      }
      appSettings[key] = value;
    }
  }
  return {
    secrets: [...secrets.values()].sort((a, b) => a.name.localeCompare(b.name)),
    alerts: [...alerts.values()],
    appSettings,
    parallelism: Math.max(...all.map((n) => n.parallelism)),
    warnings: [...new Set(all.flatMap((n) => n.warnings))],
  };
}
