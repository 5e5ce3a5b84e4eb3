// A queue worker in its own process (an executor instance), for fault tests that kill one mid-task.
// Env: AZURITE (connection string), QUEUE, ROOT (lake root), RUN_ID, FAKE_KILL_IN, MALLARD_CRASH_AT.

import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import { QueueRuntime } from "../../../../runtime/orchestration/azure/context.ts";
import { runWorker } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { fakeRunner, faultsFromEnv, testPipeline } from "./fixture.ts";

const env = process.env;
const connectionString = env.AZURITE!;
const rt = new QueueRuntime({
  pipeline: testPipeline,
  lake: new AzureLake({ connection: { kind: "connectionString", connectionString }, root: env.ROOT }),
  queue: new AzureTaskQueue({ kind: "connectionString", connectionString }, env.QUEUE),
  secrets: new SecretChain([]),
  projectRoot: process.cwd(),
  monitor: new Monitor({ sink: (line) => process.stderr.write(`[worker ${process.pid}] ${JSON.stringify(line)}\n`) }),
  runTask: fakeRunner(faultsFromEnv(env)),
  retry: { baseDelaySeconds: 1 },
});
await runWorker(rt, {
  visibilitySeconds: Number(env.LEASE_SECONDS ?? 3),
  until: async () => (await rt.dispatch.read(testPipeline.name, env.RUN_ID!))?.state.status !== "running",
});
await rt.close();
process.exit(0);
