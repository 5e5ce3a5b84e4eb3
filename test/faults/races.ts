// Races on Azurite through the real driver, executor and publish path: a task that outlives its run's
// lease (the next tick abandons the run and a newer run publishes fresher data) must publish nothing and
// be recorded abandoned; two drivers, the first slowed between its lease and its dispatch state by the
// code's own delay point (driver:after-lease), must start one run in which every task runs once.

import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Engine } from "../../runtime/engine/engine.ts";
import { AzureLake } from "../../runtime/lake/azure-lake.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import { QueueRuntime, type QueueRuntimeOptions, type TaskRunner } from "../../runtime/orchestration/azure/context.ts";
import { startRun } from "../../runtime/orchestration/azure/driver.ts";
import { runWorker } from "../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../runtime/orchestration/queue/azure-queue.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";
import { RunRecords } from "../../runtime/state/run-records.ts";
import { Monitor } from "../../runtime/telemetry/monitor.ts";
import { executions, publishingRunner, tableOf, tableValue, testPipeline } from "../runtime/orchestration/azure/fixture.ts";
import { type ClassResult, classResult, tryCase } from "./report.ts";

export async function races(connectionString: string): Promise<ClassResult[]> {
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] });
  const setup = () => {
    const id = randomBytes(4).toString("hex");
    const lake = new AzureLake({ connection: { kind: "connectionString", connectionString }, root: `r-${id}` });
    const queue = new AzureTaskQueue({ kind: "connectionString", connectionString }, `races-${id}`);
    const options = (runTask: TaskRunner, extra: Partial<QueueRuntimeOptions> = {}): QueueRuntimeOptions => ({
      pipeline: testPipeline, lake, queue, secrets: new SecretChain([]), projectRoot: process.cwd(), monitor: new Monitor({ sink: () => undefined }), runTask, ...extra,
    });
    return { lake, queue, options };
  };
  const values = async (lake: Lake) => JSON.stringify(Object.fromEntries(await Promise.all(["a", "b", "m", "g"].map(async (t) => [t, await tableValue(engine, lake, tableOf(t))]))));
  const ended = (rt: QueueRuntime, runId: string) => async () => (await rt.dispatch.read(testPipeline.name, runId))?.state.status !== "running";

  const lease = await tryCase("lease expiry mid-task: the stale task publishes nothing and is recorded abandoned", async () => {
    const s = setup();
    let clock = Date.now();
    const now = () => new Date(clock);
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const rt1 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 }, { m: () => (entered(), held) }), { leaseSeconds: 600, now }));
    await s.queue.ensure();
    const first = await startRun(rt1, { trigger: "timer" });
    if (!first.started) return `first run not started: ${first.reason}`;
    const worker1 = runWorker(rt1, { until: ended(rt1, first.runId), pollMs: 50 });
    await inside;
    clock += 11 * 60_000; // past the lease: the next tick abandons run 1
    const rt2 = new QueueRuntime(s.options(publishingRunner({ a: 5, b: 2 }), { leaseSeconds: 600, now }));
    const second = await startRun(rt2, { trigger: "timer" });
    if (!second.started) return `second run not started: ${second.reason}`;
    await runWorker(rt2, { until: ended(rt2, second.runId), pollMs: 50 });
    const fresh = await values(s.lake);
    release();
    await worker1;
    const after = await values(s.lake);
    const old = await new RunRecords(s.lake).get(testPipeline.name, first.runId);
    await rt1.close();
    await rt2.close();
    if (fresh !== JSON.stringify({ a: 5, b: 2, m: 7, g: 70 })) return `the newer run published ${fresh}`;
    if (after !== fresh) return `the stale task replaced fresher output: ${after}`;
    if (old?.status !== "abandoned" || old.tasks.m.status !== "abandoned") return `the old run is recorded ${old?.status}, its task m ${old?.tasks.m.status}`;
    return undefined;
  });

  const drivers = await tryCase("two drivers, the first slowed 3 s after taking the lease: one run, every task once", async () => {
    const s = setup();
    const rt1 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 })));
    const rt2 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 })));
    await s.queue.ensure();
    process.env.MALLARD_DELAY_AT = "driver:after-lease";
    process.env.MALLARD_DELAY_MS = "3000";
    let first;
    let second;
    try {
      const slow = startRun(rt1, { trigger: "timer" });
      await sleep(500);
      second = await startRun(rt2, { trigger: "http" });
      first = await slow;
    } finally {
      delete process.env.MALLARD_DELAY_AT;
      delete process.env.MALLARD_DELAY_MS;
    }
    if (!first.started || second.started) return `started: first ${first.started}, second ${second.started}`;
    await Promise.all([runWorker(rt1, { until: ended(rt1, first.runId), pollMs: 50 }), runWorker(rt2, { until: ended(rt1, first.runId), pollMs: 50 })]);
    const runs = await new RunRecords(s.lake).latest(testPipeline.name);
    const counts = await Promise.all(["a", "b", "m", "g"].map((t) => executions(s.lake, t)));
    const got = await values(s.lake);
    await rt1.close();
    await rt2.close();
    if (runs.length !== 1 || runs[0].status !== "succeeded") return `runs: ${runs.map((r) => r.status).join(", ")}`;
    if (counts.some((n) => n !== 1)) return `executions a, b, m, g: ${counts.join(", ")}`;
    return got === JSON.stringify({ a: 1, b: 2, m: 3, g: 30 }) ? undefined : `published ${got}`;
  });
  await engine.close();
  return [classResult("lease expiry mid-task", [lease]), classResult("two drivers, slow dispatch write", [drivers])];
}
