// What the queue protocol records and says is true, on a real Azurite: a message that is not a task
// message is kept in the poison queue with the reason (and stays there), and a worker that cannot keep
// its message invisible says so and stops taking messages.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import { QueueRuntime, type QueueRuntimeOptions } from "../../../../runtime/orchestration/azure/context.ts";
import { startRun } from "../../../../runtime/orchestration/azure/driver.ts";
import { runWorker } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { readKeptMessage } from "../../../../runtime/orchestration/queue/message.ts";
import type { ReceivedMessage, ReceiveOptions, TaskQueue } from "../../../../runtime/orchestration/queue/task-queue.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { type LogLine, Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";
import { executions, fakeRunner, type Faults, testPipeline } from "./fixture.ts";

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

function setup(faults: Faults = {}, queueOf: (q: AzureTaskQueue) => TaskQueue = (q) => q) {
  const id = randomBytes(4).toString("hex");
  const lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: `h-${id}` });
  const azure = new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, `honest-${id}`);
  const lines: LogLine[] = [];
  const options: QueueRuntimeOptions = {
    pipeline: testPipeline, lake, queue: queueOf(azure), secrets: new SecretChain([]), projectRoot: process.cwd(),
    monitor: new Monitor({ sink: (line) => void lines.push(line) }), runTask: fakeRunner(faults), parkSeconds: 2,
  };
  return { lake, azure, lines, rt: new QueueRuntime(options) };
}

describe("honest records on Azurite", () => {
  it("keeps a message that is not a task message in the poison queue, with the reason, and keeps it there", async () => {
    const s = setup();
    await s.azure.ensure();
    // One garbled message on the task queue (the executor sees it), one moved to the poison queue by the host.
    await s.azure.queue.sendMessage("not a task");
    await s.azure.poison.sendMessage(Buffer.from(JSON.stringify({ v: 9, task: "x" })).toString("base64"));
    let ticks = 0;
    await runWorker(s.rt, { until: async () => ++ticks > 4, pollMs: 50 });
    assert.equal((await s.azure.depth()).poison, 2, "both are still in the poison queue");
    await sleep(2_500);
    const kept = (await s.azure.receivePoison({ max: 32 })).map((m) => readKeptMessage(m.body));
    const byBody = Object.fromEntries(kept.map((k) => [k?.body, k?.reason]));
    assert.deepEqual(Object.keys(byBody).sort(), ["eyJ2Ijo5LCJ0YXNrIjoieCJ9", "not a task"], "each kept as it arrived");
    assert.match(byBody["not a task"] ?? "", /^invalid task message: not JSON/);
    assert.match(byBody.eyJ2Ijo5LCJ0YXNrIjoieCJ9 ?? "", /^invalid task message: v: .*runId: .*pipeline: .*attempt: /);
    assert.ok(s.lines.some((l) => l.level === "error" && /invalid task message: not JSON.*kept in the poison queue/.test(l.msg)));
    // When a kept message surfaces again, the poison handler parks it again, unchanged.
    await sleep(2_500);
    ticks = 0;
    await runWorker(s.rt, { until: async () => ++ticks > 4, pollMs: 50 });
    assert.equal((await s.azure.depth()).poison, 2);
    await s.rt.close();
  });

  it("logs a failed visibility renewal and stops claiming; the task it holds still finishes", async () => {
    // Every renewal of a received message fails (the queue lost it, or the network to it is down).
    const s = setup({ delayMs: { a: 1_500 } }, (azure) => new RenewalFails(azure));
    await s.azure.ensure();
    const started = await startRun(s.rt, { trigger: "test", select: ["a", "b"] });
    assert.ok(started.started);
    const outcome = await runWorker(s.rt, { visibilitySeconds: 1, pollMs: 50 });
    assert.equal(outcome, "stopped");
    const renewal = s.lines.find((l) => /could not keep message .* invisible/.test(l.msg));
    assert.ok(renewal, "the failed renewal is logged");
    assert.equal(renewal.level, "error");
    assert.match(renewal.msg, /renewal refused \(injected\).*this worker stops claiming messages/);
    // It finished the task it held (a or b, whichever came first), and took no other message.
    const ran = (await executions(s.lake, "a")) + (await executions(s.lake, "b"));
    assert.equal(ran, 1);
    await s.rt.close();
  });
});

/** The Azure queue, except that keeping a received message invisible longer always fails. */
class RenewalFails implements TaskQueue {
  readonly processBound = false;
  constructor(private readonly inner: AzureTaskQueue) {}
  get name() {
    return this.inner.name;
  }
  send: TaskQueue["send"] = (m, o) => this.inner.send(m, o);
  sendPoison: TaskQueue["sendPoison"] = (b, o) => this.inner.sendPoison(b, o);
  receivePoison: TaskQueue["receivePoison"] = (o) => this.inner.receivePoison(o);
  ensure = () => this.inner.ensure();
  depth = () => this.inner.depth();
  async receive(options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    return (await this.inner.receive(options)).map((m) => ({
      ...m,
      abandon: async (delay: number) => {
        if (delay > 0) throw new Error("renewal refused (injected)");
        await m.abandon(delay);
      },
    }));
  }
}
