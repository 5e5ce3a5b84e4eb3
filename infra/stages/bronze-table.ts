// Resources of a bronze table: the secret of its source's connection (one per secret, however many tables
// share it), the parallelism its partitions need, and, when it is reconciled with its source, an alert
// rule on drift. (Its own schedule's setting is added for every kind in index.ts.)

import { partitionTasks, type BronzeTable, type Pipeline } from "../../runtime/declare/index.ts";
import { TELEMETRY } from "../../runtime/declare/deployment.ts";
import { sourceSecrets } from "../../runtime/declare/sources.ts";
import { type AlertSpec, kqlString, type StageNeeds } from "./needs.ts";

export function bronzeTableNeeds(stage: BronzeTable, pipeline: Pipeline): StageNeeds {
  const { secrets, plain } = sourceSecrets(stage.source);
  return {
    secrets,
    alerts: stage.reconcile ? [driftAlert(stage, pipeline)] : [],
    appSettings: {},
    // Chunks are a known number of tasks; ranges depend on the data, so they claim no ceiling of their own.
    parallelism: stage.partitions ? partitionTasks(stage.partitions) : 1,
    warnings: [
      ...plain.map((field) =>
        `source "${stage.source.name}": ${field === "connection" ? "the connection" : field} is a plain string in the declaration, so it ships in the function bundle; use secret("…") to keep it in Key Vault`),
      ...localFolder(stage),
    ],
  };
}

/** The Function App has no folder of the laptop's: files reach it through the lake's landing container. */
function localFolder({ source }: BronzeTable): string[] {
  return source.kind === "files" && source.folder !== undefined
    ? [`source "${source.name}": folder: a deployed pipeline cannot read the local folder "${source.folder}"; drop the files in the lake's landing container (landing: "…")`]
    : [];
}


/** One row per reconciliation of this table that found drift (or could not compare). */
function driftAlert(stage: BronzeTable, pipeline: Pipeline): AlertSpec {
  return {
    key: `reconcile-${stage.name}`,
    displayName: `${pipeline.name}.${stage.name}: bronze drifted from its source`,
    description: `Reconciliation of bronze table ${stage.name} with its source found rows missing, changed or deleted (or could not run); the run report shows the drifted keys, and \`mallard run --select ${stage.name} --full-refresh\` reloads it.`,
    query: [
      "customEvents",
      `| where name == ${kqlString(TELEMETRY.reconcileDrift)}`,
      "| extend pipeline = tostring(customDimensions.pipeline), stage = tostring(customDimensions.stage)",
      `| where pipeline == ${kqlString(pipeline.name)} and stage == ${kqlString(stage.name)}`,
      "| project timestamp, runId = tostring(customDimensions.runId), status = tostring(customDimensions.status), missing = tolong(customMeasurements.missing),",
      "    changed = tolong(customMeasurements.changed), deleted = tolong(customMeasurements.deleted), error = tostring(customDimensions.error)",
    ].join("\n"),
  };
}
