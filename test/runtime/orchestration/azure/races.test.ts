// Ordering by data and one run at a time, on a real Azurite: a task of a run abandoned after its lease
// expired publishes nothing and says so; two drivers with a slow dispatch write start one run between
// them; a driver that died right after taking the lease leaves a run the next tick opens.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Engine } from "../../../../runtime/engine/engine.ts";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import type { Lake } from "../../../../runtime/lake/lake.ts";
import { QueueRuntime, type QueueRuntimeOptions, type TaskRunner } from "../../../../runtime/orchestration/azure/context.ts";
import { leasePath, startRun } from "../../../../runtime/orchestration/azure/driver.ts";
import { runWorker } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { RunRecords } from "../../../../runtime/state/run-records.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";
import { executions, publishingRunner, tableOf, tableValue, testPipeline } from "./fixture.ts";
import { tmpdir } from "node:os";

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
  engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] });
});
after(async () => {
  await engine?.close();
  await azurite?.stop();
});

function setup() {
  const id = randomBytes(4).toString("hex");
  const lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: `r-${id}` });
  const queue = new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, `races-${id}`);
  const options = (runTask: TaskRunner, extra: Partial<QueueRuntimeOptions> = {}): QueueRuntimeOptions => ({
    pipeline: testPipeline, lake, queue, secrets: new SecretChain([]), projectRoot: process.cwd(),
    monitor: new Monitor({ sink: () => undefined }), runTask, ...extra,
  });
  return { lake, queue, options };
}

let engine: Engine;
async function values(lake: Lake) {
  const out: Record<string, number> = {};
  for (const t of ["a", "b", "m", "g"]) out[t] = await tableValue(engine, lake, tableOf(t));
  return out;
}

const runEnded = (rt: QueueRuntime, runId: string) => async () => (await rt.dispatch.read(testPipeline.name, runId))?.state.status !== "running";

describe("runs racing on Azurite", () => {
  it("a task that outlives its run's lease publishes nothing and is recorded abandoned; the newer run's output stays", async () => {
    const s = setup();
    let clock = Date.now();
    const now = () => new Date(clock);
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // Run 1: m reads a=1, b=2, then stalls past the lease.
    const rt1 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 }, { m: () => (entered(), held) }), { leaseSeconds: 600, now }));
    await s.queue.ensure();
    const first = await startRun(rt1, { trigger: "timer" });
    assert.ok(first.started);
    const worker1 = runWorker(rt1, { until: runEnded(rt1, first.runId), pollMs: 50 });
    await inside;

    // Eleven minutes later the next tick finds no progress for longer than the lease: run 1 is abandoned,
    // run 2 loads new rows (a=5) and publishes everything.
    clock += 11 * 60_000;
    const rt2 = new QueueRuntime(s.options(publishingRunner({ a: 5, b: 2 }), { leaseSeconds: 600, now }));
    const second = await startRun(rt2, { trigger: "timer" });
    assert.ok(second.started, second.started ? "" : second.reason);
    await runWorker(rt2, { until: runEnded(rt2, second.runId), pollMs: 50 });
    assert.deepEqual(await values(s.lake), { a: 5, b: 2, m: 7, g: 70 });

    // Run 1's m finishes now, with the sum of the old inputs (3): it must not publish it.
    release();
    await worker1;
    assert.deepEqual(await values(s.lake), { a: 5, b: 2, m: 7, g: 70 }, "stale output never replaces fresher output");
    const records = new RunRecords(s.lake);
    const old = await records.get(testPipeline.name, first.runId);
    assert.equal(old?.status, "abandoned");
    assert.equal(old?.tasks.m.status, "abandoned");
    assert.match(old?.tasks.m.note ?? "", /its run was abandoned while it ran \(no progress for \d+ s: lease expired\); it published nothing/);
    assert.deepEqual([old?.tasks.a.status, old?.tasks.b.status, old?.tasks.g.status], ["succeeded", "succeeded", "abandoned"]);
    assert.equal((await records.get(testPipeline.name, second.runId))?.status, "succeeded");
    await rt1.close();
    await rt2.close();
  });

  it("two drivers, the first slow to write its dispatch state: one run starts, every task runs once", async () => {
    const s = setup();
    const rt1 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 })));
    const rt2 = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 })));
    await s.queue.ensure();
    // The code's own fault point between the lease and the dispatch state: the lease holder waits 3 s there.
    process.env.MALLARD_DELAY_AT = "driver:after-lease";
    process.env.MALLARD_DELAY_MS = "3000";
    let second;
    let first;
    try {
      const slow = startRun(rt1, { trigger: "timer" });
      await sleep(500);
      second = await startRun(rt2, { trigger: "http" });
      first = await slow;
    } finally {
      delete process.env.MALLARD_DELAY_AT;
      delete process.env.MALLARD_DELAY_MS;
    }
    assert.ok(first.started);
    assert.equal(second.started, false);
    assert.equal(second.started ? "" : second.reason, `run ${first.runId} is starting`);
    await Promise.all([runWorker(rt1, { until: runEnded(rt1, first.runId), pollMs: 50 }), runWorker(rt2, { until: runEnded(rt1, first.runId), pollMs: 50 })]);
    const runs = await new RunRecords(s.lake).latest(testPipeline.name);
    assert.deepEqual(runs.map((r) => [r.runId, r.status]), [[first.runId, "succeeded"]]);
    for (const task of ["a", "b", "m", "g"]) assert.equal(await executions(s.lake, task), 1, `${task} ran once`);
    assert.deepEqual(await values(s.lake), { a: 1, b: 2, m: 3, g: 30 });
    await rt1.close();
    await rt2.close();
  });

  it("a driver that died right after taking the lease: the next tick opens that run instead of starting another", async () => {
    const s = setup();
    await s.queue.ensure();
    // The lake refuses the dispatch write: the driver stops between the lease and the dispatch state.
    const broken: Lake = Object.assign(Object.create(s.lake) as Lake, {
      writeJson: (path: string, value: unknown, condition?: Parameters<Lake["writeJson"]>[2]) =>
        path.startsWith("_mallard/dispatch/") ? Promise.reject(new Error("connection reset (injected)")) : s.lake.writeJson(path, value, condition),
    });
    const dying = new QueueRuntime({ ...s.options(publishingRunner({ a: 1, b: 2 })), lake: broken });
    await assert.rejects(startRun(dying, { trigger: "timer", select: ["a", "b"] }), /connection reset/);
    const leased = (await s.lake.readJson<{ runId: string }>(leasePath(testPipeline.name)))!.value.runId;

    const rt = new QueueRuntime(s.options(publishingRunner({ a: 1, b: 2 })));
    const tick = await startRun(rt, { trigger: "timer" });
    assert.deepEqual(tick, { started: false, reason: `run ${leased} is starting`, activeRunId: leased });
    await runWorker(rt, { until: runEnded(rt, leased), pollMs: 50 });
    const record = await rt.records.get(testPipeline.name, leased);
    assert.equal(record?.status, "succeeded");
    assert.deepEqual(Object.keys(record?.tasks ?? {}).sort(), ["a", "b"], "opened with the options the lease recorded (select a, b)");
    assert.equal(record?.trigger, "timer");
    await rt.close();
  });
});
