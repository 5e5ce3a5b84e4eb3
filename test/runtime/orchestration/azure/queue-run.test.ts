// The queue protocol end to end on a real Azurite (Blob for the lake, Queue for tasks), with stand-in
// tasks: concurrent executors, duplicates, simultaneous fan-in, retries with backoff, check failures,
// handler crashes ending in the poison queue, a killed executor process, and the driver's lease.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import { QueueRuntime, type QueueRuntimeOptions } from "../../../../runtime/orchestration/azure/context.ts";
import { leasePath, startRun } from "../../../../runtime/orchestration/azure/driver.ts";
import { runThroughQueue, runWorker, RunNotStarted } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { decodeTaskMessage } from "../../../../runtime/orchestration/queue/message.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { Monitor, type TelemetrySink } from "../../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";
import { CountingQueue, EXPECTED, executions, fakeRunner, type Faults, outputs, testPipeline } from "./fixture.ts";

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

class Events implements TelemetrySink {
  readonly names: string[] = [];
  event(name: string) {
    this.names.push(name);
  }
  metric() {}
  exception() {}
  async flush() {}
}

function setup(extra: { duplicate?: boolean } = {}) {
  const id = randomBytes(4).toString("hex");
  const lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: `q-${id}` });
  const queue = new CountingQueue(new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, `tasks-${id}`), extra.duplicate);
  const events = new Events();
  const options = (faults: Faults = {}): QueueRuntimeOptions => ({
    pipeline: testPipeline, lake, queue, secrets: new SecretChain([]), projectRoot: process.cwd(),
    monitor: new Monitor({ sink: () => undefined, telemetry: events }),
    runTask: fakeRunner(faults),
    retry: { baseDelaySeconds: 1, maxAttempts: 3 },
  });
  return { id, lake, queue, events, options, root: `q-${id}`, queueName: `tasks-${id}` };
}

async function taskCounts(lake: AzureLake) {
  return Object.fromEntries(await Promise.all(["a", "b", "m", "g"].map(async (t) => [t, await executions(lake, t)] as const)));
}

describe("queue runs on Azurite", () => {
  it("runs the pipeline with three concurrent executors: every task once, the right outputs", async () => {
    const s = setup();
    const record = await runThroughQueue({ ...s.options(), workers: 3 });
    assert.equal(record.status, "succeeded");
    assert.deepEqual(Object.values(record.tasks).map((t) => t.status), ["succeeded", "succeeded", "succeeded", "succeeded"]);
    assert.deepEqual(await outputs(s.lake), EXPECTED);
    assert.deepEqual(await taskCounts(s.lake), { a: 1, b: 1, m: 1, g: 1 });
    assert.deepEqual(Object.fromEntries(s.queue.sent), { a: 1, b: 1, m: 1, g: 1 });
    assert.ok(s.events.names.includes("MallardRunFinished"));
    assert.equal(record.tasks.m.rowsIn, 2);
  });

  it("does nothing twice when every message is delivered twice", async () => {
    const s = setup({ duplicate: true });
    const record = await runThroughQueue({ ...s.options(), workers: 3 });
    assert.equal(record.status, "succeeded");
    assert.deepEqual(await outputs(s.lake), EXPECTED);
    assert.deepEqual(await taskCounts(s.lake), { a: 1, b: 1, m: 1, g: 1 });
  });

  it("queues a dependent exactly once when its two inputs finish at the same moment on two executors", async () => {
    for (let round = 0; round < 3; round++) {
      const s = setup();
      // a and b wait for each other inside the task, so both record success together.
      let arrived = 0;
      let release!: () => void;
      const barrier = new Promise<void>((r) => (release = r));
      const during = async (task: string) => {
        if (task !== "a" && task !== "b") return;
        if (++arrived === 2) release();
        await barrier;
      };
      // Two separate runtimes (two instances, each with its own engine), one worker each.
      const rt1 = new QueueRuntime(s.options({ during }));
      const rt2 = new QueueRuntime(s.options({ during }));
      await s.queue.ensure();
      const started = await startRun(rt1, { trigger: "test" });
      assert.ok(started.started);
      const until = async () => (await rt1.dispatch.read(testPipeline.name, started.runId))?.state.status !== "running";
      await Promise.all([runWorker(rt1, { until, pollMs: 50 }), runWorker(rt2, { until, pollMs: 50 })]);
      await rt1.close();
      await rt2.close();
      assert.equal(s.queue.sent.get("m"), 1, `round ${round}: m was queued ${s.queue.sent.get("m")} times`);
      assert.deepEqual(await taskCounts(s.lake), { a: 1, b: 1, m: 1, g: 1 });
      assert.deepEqual(await outputs(s.lake), EXPECTED);
    }
  });

  it("retries a task whose source is unreachable for two attempts, with backoff, and succeeds", async () => {
    const s = setup();
    const t0 = Date.now();
    const record = await runThroughQueue({ ...s.options({ failAttempts: { a: [1, 2] } }), workers: 2, pollMs: 100 });
    assert.equal(record.status, "succeeded");
    assert.equal(record.tasks.a.attempt, 3);
    assert.ok(Date.now() - t0 >= 3000, "waited 1 s, then 2 s, before attempts 2 and 3");
    assert.deepEqual(await taskCounts(s.lake), { a: 3, b: 1, m: 1, g: 1 });
    assert.deepEqual(await outputs(s.lake), EXPECTED);
  });

  it("fails the run on a failed quality check: no retry, downstream not run, message in the poison queue", async () => {
    const s = setup();
    const record = await runThroughQueue({ ...s.options({ checkFails: ["m"] }), workers: 2 });
    assert.equal(record.status, "failed");
    assert.equal(record.error?.stage, "m");
    assert.equal(record.tasks.m.status, "failed");
    assert.equal(record.tasks.g.status, "skipped");
    assert.deepEqual(await taskCounts(s.lake), { a: 1, b: 1, m: 1, g: 0 });
    assert.equal((await outputs(s.lake)).g, undefined);
    assert.ok(s.events.names.includes("MallardRunFailed"));
    assert.ok(s.events.names.includes("MallardCheckFailed"));
    assert.deepEqual(await s.queue.depth(), { tasks: 0, poison: 1 });
    const poisoned = await s.queue.inner.receivePoison();
    assert.equal(decodeTaskMessage(poisoned[0].body).task, "m");
  });

  it("does not retry a configuration error: one attempt, run failed, downstream not run", async () => {
    const s = setup();
    const record = await runThroughQueue({ ...s.options({ configFails: ["a"] }), workers: 2, pollMs: 100 });
    assert.equal(record.status, "failed");
    assert.equal(record.tasks.a.attempt, 1);
    assert.deepEqual(await taskCounts(s.lake), { a: 1, b: 1, m: 0, g: 0 });
  });

  it("sends a task whose handler keeps crashing to the poison queue after maxDequeueCount, and fails the run", async () => {
    const s = setup();
    const record = await runThroughQueue({ ...s.options({ throws: ["b"] }), workers: 2, maxDequeueCount: 3, pollMs: 50 });
    assert.equal(record.status, "failed");
    assert.equal(record.tasks.b.status, "failed");
    // Three deliveries crashed (maxDequeueCount 3), not the poison message's own one.
    assert.equal(record.tasks.b.error, "task message poisoned after 3 deliveries (the executor crashed or timed out each time)");
    assert.equal(record.tasks.m.status, "skipped");
    assert.equal(record.tasks.a.status, "succeeded");
    assert.equal(await executions(s.lake, "b"), 3);
  });

  it("refuses a second driver tick while a run is active, and starts again once its lease expired", async () => {
    const s = setup();
    let clock = Date.parse("2026-11-24T12:00:00Z");
    const rt = new QueueRuntime({ ...s.options(), leaseSeconds: 600, now: () => new Date(clock) });
    await s.queue.ensure();
    const first = await startRun(rt, { trigger: "timer" });
    assert.ok(first.started);
    clock += 60_000;
    const second = await startRun(rt, { trigger: "timer" });
    assert.deepEqual({ ...second, reason: undefined }, { started: false, reason: undefined, activeRunId: first.runId });
    await assert.rejects(runThroughQueue({ ...s.options(), leaseSeconds: 600, now: () => new Date(clock), workers: 1 }), RunNotStarted);
    // Two drivers racing on a free lease: one wins.
    clock += 3_600_000;
    const racers = await Promise.all([startRun(rt, { trigger: "timer" }), startRun(new QueueRuntime({ ...s.options(), leaseSeconds: 600, now: () => new Date(clock) }), { trigger: "timer" })]);
    assert.equal(racers.filter((r) => r.started).length, 1);
    const abandoned = await rt.records.get(testPipeline.name, first.runId);
    assert.equal(abandoned?.status, "abandoned");
    assert.match(abandoned?.error?.message ?? "", /^abandoned: no progress for \d+ s: lease expired/);
    assert.deepEqual(Object.values(abandoned?.tasks ?? {}).map((t) => t.status), ["abandoned", "abandoned", "abandoned", "abandoned"]);
    const winner = racers.find((r) => r.started);
    const lease = await s.lake.readJson<{ runId: string }>(leasePath(testPipeline.name));
    assert.equal(lease?.value.runId, winner?.started ? winner.runId : undefined);
    await rt.close();
  });

  it("a driver tick re-sends the root messages of a run whose driver died before sending them", async () => {
    const s = setup();
    let clock = Date.now();
    const rt = new QueueRuntime({ ...s.options(), now: () => new Date(clock) });
    await s.queue.ensure();
    const started = await startRun(rt, { trigger: "timer" });
    assert.ok(started.started);
    // Lose the messages the driver sent, as if it had died right after writing the run.
    for (const m of await s.queue.inner.receive({ max: 32 })) await m.complete();
    clock += 11 * 60_000;
    const tick = await startRun(rt, { trigger: "timer" });
    assert.equal(tick.started, false);
    const until = async () => (await rt.dispatch.read(testPipeline.name, started.runId))?.state.status !== "running";
    await runWorker(rt, { until, pollMs: 50 });
    assert.equal((await rt.records.get(testPipeline.name, started.runId))?.status, "succeeded");
    assert.deepEqual(await outputs(s.lake), EXPECTED);
    await rt.close();
  });

  for (const [what, env] of [
    ["killed mid-task", { FAKE_KILL_IN: "m" }],
    ["killed after recording success, before queuing the dependents", { MALLARD_CRASH_AT: "executor:{task}:before-dispatch" }],
    // The last task's result is in the dispatch state (the run is done there) but not in the run record.
    ["killed between the last task's dispatch write and its run-record write", { MALLARD_CRASH_AT: "executor:g:after-result" }],
  ] as const) {
    it(`recovers when an executor process is ${what}: the message is redelivered, nothing lost or doubled`, async () => {
      const s = setup();
      const rt = new QueueRuntime(s.options());
      await s.queue.ensure();
      const started = await startRun(rt, { trigger: "test" });
      assert.ok(started.started);
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "worker-process.ts")], {
        env: { ...process.env, AZURITE: azurite.connectionString, QUEUE: s.queueName, ROOT: s.root, RUN_ID: started.runId, LEASE_SECONDS: "2", ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let log = "";
      child.stderr.on("data", (c: Buffer) => (log += c.toString()));
      const exit = await new Promise<string | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      assert.equal(exit, "SIGKILL", log);
      // A healthy executor picks up what the dead one left once its message becomes visible again.
      const until = async () => (await rt.records.get(testPipeline.name, started.runId))?.status !== "running";
      await runWorker(rt, { until, pollMs: 100 });
      const record = await rt.records.get(testPipeline.name, started.runId);
      await rt.close();
      assert.equal(record?.status, "succeeded");
      assert.deepEqual(Object.values(record?.tasks ?? {}).map((t) => [t.task, t.status, t.rowsOut]), [["a", "succeeded", 1], ["b", "succeeded", 1], ["m", "succeeded", 1], ["g", "succeeded", 1]]);
      assert.deepEqual(await outputs(s.lake), EXPECTED);
      const counts = await taskCounts(s.lake);
      assert.equal(counts.g, 1);
      assert.ok(counts.m >= 1 && counts.m <= 2, `m ran ${counts.m} times`);
    });
  }
});
