// A `mallard run` in its own process over a local-folder lake, with the stand-in tasks of the queue
// fixture, for tests that kill it mid-run. Env: LAKE (folder), MODE (`local`: the in-process runner;
// `queue`: through the in-process queue, as `mallard run --queue` on a local lake), FAKE_KILL_IN (task).

import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { runThroughQueue } from "../../../runtime/orchestration/azure/worker.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { InProcessTaskQueue } from "../../../runtime/orchestration/queue/memory-queue.ts";
import { SecretChain } from "../../../runtime/secrets/secrets.ts";
import { Monitor } from "../../../runtime/telemetry/monitor.ts";
import { fakeRunner, faultsFromEnv, testPipeline } from "./azure/fixture.ts";

const env = process.env;
const common = { pipeline: testPipeline, lake: new LocalLake(env.LAKE!), secrets: new SecretChain([]), projectRoot: process.cwd(), trigger: "test" };
const runTask = fakeRunner(faultsFromEnv(env));
const record = env.MODE === "queue"
  ? await runThroughQueue({ ...common, queue: new InProcessTaskQueue(), runTask, monitor: new Monitor({ sink: () => undefined }), pollMs: 50 })
  : await runLocal({ ...common, runTask: (task, ctx) => runTask(task, ctx, 1) });
process.stdout.write(`${record.runId} ${record.status}\n`);
