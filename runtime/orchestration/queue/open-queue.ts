// Pick the task queue for `mallard run --queue`: the storage account of an Azure lake (its connection
// string for Azurite, the account's queue endpoint with DefaultAzureCredential otherwise), or the
// in-process queue for a local-folder lake.

import { DEFAULT_TASK_QUEUE } from "../../declare/deployment.ts";
import { parseLakeSpec } from "../../lake/lake-spec.ts";
import { InProcessTaskQueue } from "./memory-queue.ts";
import type { TaskQueue } from "./task-queue.ts";

export async function openTaskQueue(lakeSpec: string, name: string = DEFAULT_TASK_QUEUE): Promise<TaskQueue> {
  const connection = parseLakeSpec(lakeSpec);
  if (!connection) return new InProcessTaskQueue(name);
  const { AzureTaskQueue } = await import("./azure-queue.ts");
  return connection.kind === "connectionString"
    ? new AzureTaskQueue({ kind: "connectionString", connectionString: connection.connectionString }, name)
    : new AzureTaskQueue({ kind: "identity", queueServiceUri: `https://${connection.account}.queue.core.windows.net`, credential: connection.credential }, name);
}
