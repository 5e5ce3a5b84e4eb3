// Resources of a bronze table: the secret of its source's connection (one per secret, however many tables
// share it) and the parallelism its partitions need. (Its own schedule's setting is added for every kind
// in index.ts.)

import { partitionTasks, type BronzeTable } from "../../runtime/declare/index.ts";
import { sourceSecrets } from "../../runtime/declare/sources.ts";
import type { StageNeeds } from "./needs.ts";

export function bronzeTableNeeds(stage: BronzeTable): StageNeeds {
  const { secrets, plain } = sourceSecrets(stage.source);
  return {
    secrets,
    alerts: [],
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

