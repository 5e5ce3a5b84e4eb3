// What the pipeline itself needs, whatever its stages: the driver's timer schedule (an app setting), an
// alert when one of its runs fails, and its webhooks' URLs in Key Vault (they are secrets).

import type { Pipeline } from "../../runtime/declare/index.ts";
import { kqlString, noNeeds, type StageNeeds } from "./needs.ts";
import { SCHEDULE_SETTINGS, TELEMETRY } from "../../runtime/declare/deployment.ts";

export function pipelineNeeds(pipeline: Pipeline): StageNeeds {
  return {
    ...noNeeds,
    secrets: (pipeline.notify?.webhooks ?? []).map((hook) => hook.url),
    appSettings: { [SCHEDULE_SETTINGS.pipeline]: pipeline.schedule },
    alerts: [{
      key: "run-failed",
      displayName: `${pipeline.name}: run failed`,
      description: `A run of pipeline ${pipeline.name} failed; see its run record with \`mallard status\` or the runs endpoint.`,
      query: [
        "customEvents",
        `| where name == ${kqlString(TELEMETRY.runFailed)}`,
        `| where tostring(customDimensions.pipeline) == ${kqlString(pipeline.name)}`,
        "| project timestamp, runId = tostring(customDimensions.runId), stage = tostring(customDimensions.stage), error = tostring(customDimensions.error)",
      ].join("\n"),
    }],
  };
}
