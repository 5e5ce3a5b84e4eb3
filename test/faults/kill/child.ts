// One pipeline process of the kill-point suite, the way an instance runs it: a local run (`mallard run`)
// or the queue protocol (driver and two executors on Azurite's queue) into a local-folder lake. The
// suite bundles this file once and starts it many times.
//
//   child run <lake>       one run; MALLARD_CRASH_AT makes it die (SIGKILL) at a step boundary
//   child recover <lake>   what the next run or timer tick does after a crash, until a run succeeds;
//                          prints {"before": digest, "after": digest} (see ../shop/digest.ts)
//   child base <lake>      a first run, then every published table gets delta.checkpointInterval=2 (as
//                          another engine may set it), so the next publish writes a Delta checkpoint
//
// Env: MALLARD_SECRET_SHOP_DB_URL (the source), FAULT_PROJECT_ROOT, FAULT_QUEUE="<connection string>|<queue
// name>" for the queue protocol (absent: a local run), FAULT_SELECT (stages of a queue run), MALLARD_CRASH_AT
// and MALLARD_FAULT_TRACE (faults.ts).

import { Engine, lakeAccess } from "../../../runtime/engine/engine.ts";
import { commit } from "../../../runtime/lake/delta/commit.ts";
import { readTable } from "../../../runtime/lake/tables.ts";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { EnvSecretProvider, SecretChain } from "../../../runtime/secrets/secrets.ts";
import type { RunRecord } from "../../../runtime/state/run-records.ts";
import { digestLake } from "../shop/digest.ts";
import { shopPipeline as pipeline } from "../shop/pipeline.ts";

const [mode, dir] = process.argv.slice(2);
const lake = new LocalLake(dir);
const secrets = new SecretChain([new EnvSecretProvider(process.env)]);
const projectRoot = process.env.FAULT_PROJECT_ROOT ?? process.cwd();
const [connectionString, queueName] = (process.env.FAULT_QUEUE ?? "").split("|");
// The queue protocol's modules (and the Azure SDK they load) only for a queue scenario: a local case's
// process starts without them (the suite starts ~170 of these processes).
const queueModules = async () => ({
  ...(await import("../../../runtime/orchestration/azure/context.ts")),
  ...(await import("../../../runtime/orchestration/azure/driver.ts")),
  ...(await import("../../../runtime/orchestration/azure/worker.ts")),
  ...(await import("../../../runtime/orchestration/queue/azure-queue.ts")),
  monitor: new (await import("../../../runtime/telemetry/monitor.ts")).Monitor({ sink: () => undefined }),
});
/** Stages a queue run selects (comma-separated), as `mallard run --select` would. */
const select = process.env.FAULT_SELECT ? process.env.FAULT_SELECT.split(",") : undefined;
/** Seconds a received message stays invisible: a killed executor's message is redelivered this soon. */
const VISIBILITY = 3;


async function runOnce(): Promise<RunRecord> {
  if (!connectionString) return runLocal({ pipeline, lake, secrets, projectRoot, trigger: "fault-suite" });
  const { runThroughQueue, AzureTaskQueue, monitor } = await queueModules();
  return runThroughQueue({
    pipeline, lake, queue: new AzureTaskQueue({ kind: "connectionString", connectionString }, queueName), secrets, projectRoot, monitor, workers: 2, visibilitySeconds: VISIBILITY, pollMs: 100, select,
    retry: { baseDelaySeconds: 1 },
  });
}

/**
 * The next timer ticks after a crash, eleven minutes later (a queued message nobody sent is re-sent after
 * ten), each followed by two executors working until the tick's run ends; until a run succeeds.
 */
async function recoverThroughQueue(): Promise<RunRecord> {
  const { AzureTaskQueue, QueueRuntime, startRun, runWorker, monitor } = await queueModules();
  const q = new AzureTaskQueue({ kind: "connectionString", connectionString }, queueName);
  await q.ensure();
  const later = () => new Date(Date.now() + 11 * 60_000);
  const rt = new QueueRuntime({ pipeline, lake, queue: q, secrets, projectRoot, monitor, now: later, retry: { baseDelaySeconds: 1 } });
  try {
    for (let tick = 1; tick <= 3; tick++) {
      const started = await startRun(rt, { trigger: "timer", select });
      const runId = started.started ? started.runId : started.activeRunId;
      if (!runId) throw new Error(`tick ${tick}: no run: ${started.started ? "" : started.reason}`);
      const until = async () => (await rt.dispatch.read(pipeline.name, runId))?.state.status !== "running";
      await Promise.all([0, 1].map(() => runWorker(rt, { until, pollMs: 100, visibilitySeconds: VISIBILITY })));
      const record = await rt.records.get(pipeline.name, runId);
      if (record?.status === "succeeded") return record;
    }
    throw new Error("no run succeeded in three ticks");
  } finally {
    await rt.close();
  }
}

async function digest() {
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(lake));
  try {
    return await digestLake(lake, engine, pipeline);
  } finally {
    await engine.close();
  }
}

/** Set a table property on every published table, in a commit of its own (Spark's SET TBLPROPERTIES). */
async function setCheckpointInterval(): Promise<void> {
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, lakeAccess(lake));
  try {
    await engine.withConnection(async (con) => {
      const roots = new Set<string>();
      for (const layer of ["silver", "gold"]) {
        for await (const o of lake.list(layer)) if (o.path.includes("/_delta_log/")) roots.add(o.path.slice(0, o.path.indexOf("/_delta_log/")));
      }
      for (const root of roots) {
        await readTable(lake, con, root);
        await commit(lake, con, root, (snapshot) => ({
          actions: [{ metaData: { ...snapshot!.metadata, configuration: { ...snapshot!.metadata.configuration, "delta.checkpointInterval": "2" } } }],
          operation: "SET TBLPROPERTIES",
        }));
      }
    });
  } finally {
    await engine.close();
  }
}

if (mode === "run") {
  const record = await runOnce();
  process.exitCode = record.status === "succeeded" ? 0 : 1;
} else if (mode === "recover") {
  const before = await digest();
  const record = connectionString ? await recoverThroughQueue() : await runLocal({ pipeline, lake, secrets, projectRoot, trigger: "fault-suite" });
  const after = await digest();
  process.stdout.write(`${JSON.stringify({ before, after, error: record.status === "succeeded" ? undefined : JSON.stringify(record.error) })}\n`);
} else if (mode === "base") {
  const record = await runOnce();
  if (record.status !== "succeeded") throw new Error(`base run ${record.status}: ${JSON.stringify(record.error)}`);
  await setCheckpointInterval();
  process.stdout.write(`${JSON.stringify({ after: await digest() })}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.exit();
