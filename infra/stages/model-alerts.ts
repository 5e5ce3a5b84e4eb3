// The alert a model with `fail` checks yields: a log query on Application Insights that returns a row per
// run in which one of its checks failed. Shared by silver and gold models.

import type { GoldModel, Pipeline, SilverModel } from "../../runtime/declare/index.ts";
import { kqlString, noNeeds, type StageNeeds } from "./needs.ts";
import { TELEMETRY } from "../../runtime/declare/deployment.ts";

export function modelNeeds(stage: SilverModel | GoldModel, pipeline: Pipeline): StageNeeds {
  const failing = stage.checks.filter((c) => c.severity === "fail");
  if (failing.length === 0) return noNeeds;
  return {
    ...noNeeds,
    alerts: [{
      key: `check-${stage.name}`,
      displayName: `${pipeline.name}.${stage.name}: quality check failed`,
      description: `A fail check of ${stage.layer} model ${stage.name} failed (${failing.map((c) => c.name).join(", ")}); the model was not published and nothing downstream ran.`,
      query: checkFailedQuery(pipeline.name, stage.name),
    }],
  };
}

/** One row per run and check that failed for this stage. */
export function checkFailedQuery(pipeline: string, stage: string): string {
  return [
    "customEvents",
    `| where name == ${kqlString(TELEMETRY.checkFailed)}`,
    "| extend pipeline = tostring(customDimensions.pipeline), stage = tostring(customDimensions.stage)",
    `| where pipeline == ${kqlString(pipeline)} and stage == ${kqlString(stage)}`,
    "| summarize failures = count(), lastSeen = max(timestamp) by runId = tostring(customDimensions.runId), check = tostring(customDimensions.check)",
  ].join("\n");
}
