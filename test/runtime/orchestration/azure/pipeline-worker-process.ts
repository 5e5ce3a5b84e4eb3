// An executor instance in its own process running the real sample pipeline, for the end-to-end fault test
// that kills it mid-extraction (MALLARD_CRASH_AT). Env: AZURITE, QUEUE, ROOT, RUN_ID, MALLARD_SECRET_SHOP_DB_URL.

import { resolve } from "node:path";
import { DEFAULT_CONFIG, loadPipeline } from "../../../../runtime/config/load-pipeline.ts";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import { QueueRuntime } from "../../../../runtime/orchestration/azure/context.ts";
import { runWorker } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { EnvSecretProvider, SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";

const env = process.env;
const projectRoot = resolve(import.meta.dirname, "../../../..");
const connectionString = env.AZURITE!;
const pipeline = await loadPipeline(DEFAULT_CONFIG, projectRoot);
const rt = new QueueRuntime({
  pipeline,
  lake: new AzureLake({ connection: { kind: "connectionString", connectionString }, root: env.ROOT }),
  queue: new AzureTaskQueue({ kind: "connectionString", connectionString }, env.QUEUE),
  secrets: new SecretChain([new EnvSecretProvider(env)]),
  projectRoot,
  monitor: new Monitor({ sink: (line) => process.stderr.write(`[worker ${process.pid}] ${JSON.stringify(line)}\n`) }),
});
await runWorker(rt, {
  visibilitySeconds: Number(env.LEASE_SECONDS ?? 3),
  until: async () => (await rt.dispatch.read(pipeline.name, env.RUN_ID!))?.state.status !== "running",
});
await rt.close();
process.exit(0);
