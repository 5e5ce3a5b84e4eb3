// Resources of a bronze table: the secret of its source's connection (one per secret, however many tables
// share it) and the parallelism its partitions need. (Its own schedule's setting is added for every kind
// in index.ts.)

import { isSecretRef } from "../../runtime/declare/secret.ts";
import { partitionTasks, type BronzeTable } from "../../runtime/declare/index.ts";
import type { StageNeeds } from "./needs.ts";

export function bronzeTableNeeds(stage: BronzeTable): StageNeeds {
  const connection = stage.source.connection;
  return {
    secrets: isSecretRef(connection) ? [connection] : [],
    alerts: [],
    appSettings: {},
    // Chunks are a known number of tasks; ranges depend on the data, so they claim no ceiling of their own.
    parallelism: stage.partitions ? partitionTasks(stage.partitions) : 1,
    warnings: isSecretRef(connection)
      ? []
      : [`source "${stage.source.name}": the connection is a plain string in the declaration, so it ships in the function bundle; use secret("…") to keep it in Key Vault`],
  };
}
