// The task queue contract, run against Azure Storage Queue on a real Azurite and the in-process queue:
// base64 JSON messages, visibility timeouts, dequeue counts, delays and the poison queue.

import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { InProcessTaskQueue } from "../../../../runtime/orchestration/queue/memory-queue.ts";
import { decodeTaskMessage, encodeTaskMessage, InvalidTaskMessage, type TaskMessage } from "../../../../runtime/orchestration/queue/message.ts";
import type { TaskQueue } from "../../../../runtime/orchestration/queue/task-queue.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";

const msg = (task: string, attempt = 1): TaskMessage => ({ v: 1, runId: "r1", pipeline: "shop", task, attempt });

describe("task messages", () => {
  it("round-trips through base64 JSON, and accepts what the Functions host hands over", () => {
    const encoded = encodeTaskMessage(msg("orders"));
    assert.match(encoded, /^[A-Za-z0-9+/=]+$/);
    assert.deepEqual(decodeTaskMessage(encoded), msg("orders"));
    assert.deepEqual(decodeTaskMessage(JSON.stringify(msg("orders"))), msg("orders"));
    assert.deepEqual(decodeTaskMessage(msg("orders")), msg("orders"));
  });

  it("refuses other versions and garbled bodies with a message naming the field", () => {
    assert.throws(() => decodeTaskMessage({ ...msg("x"), v: 2 }), (e: Error) => e instanceof InvalidTaskMessage && /v:/.test(e.message));
    assert.throws(() => decodeTaskMessage({ v: 1, runId: "r" }), /pipeline/);
    assert.throws(() => decodeTaskMessage("%%%"), InvalidTaskMessage);
  });
});

function queueContract(name: string, open: () => Promise<TaskQueue>) {
  describe(`TaskQueue contract: ${name}`, () => {
    let queue: TaskQueue;
    before(async () => {
      queue = await open();
      await queue.ensure();
    });

    it("delivers a sent message once while it is invisible, then completes it", async () => {
      await queue.send(msg("a"));
      const [first, ...rest] = await queue.receive({ visibilityTimeoutSeconds: 30 });
      assert.equal(rest.length, 0);
      assert.deepEqual(decodeTaskMessage(first.body), msg("a"));
      assert.equal(first.dequeueCount, 1);
      assert.deepEqual(await queue.receive(), []);
      await first.complete();
      assert.deepEqual(await queue.receive(), []);
    });

    it("redelivers an abandoned message with a higher dequeue count", async () => {
      await queue.send(msg("b"));
      const [first] = await queue.receive({ visibilityTimeoutSeconds: 30 });
      await first.abandon(0);
      const [again] = await queue.receive({ visibilityTimeoutSeconds: 30 });
      assert.equal(again.dequeueCount, 2);
      assert.equal(again.id, first.id);
      await again.complete();
    });

    it("redelivers a message whose visibility timeout lapsed (a crashed consumer)", async () => {
      await queue.send(msg("c"));
      const [first] = await queue.receive({ visibilityTimeoutSeconds: 1 });
      await sleep(1200);
      const [again] = await queue.receive({ visibilityTimeoutSeconds: 30 });
      assert.equal(again?.id, first.id);
      await assert.rejects(first.complete()); // the stale receipt no longer owns it
      await again.complete();
    });

    it("holds a delayed message back", async () => {
      await queue.send(msg("d", 2), { delaySeconds: 1 });
      assert.deepEqual(await queue.receive(), []);
      await sleep(1200);
      const [late] = await queue.receive();
      assert.equal(decodeTaskMessage(late.body).attempt, 2);
      await late.complete();
    });

    it("keeps poison messages apart", async () => {
      await queue.sendPoison(encodeTaskMessage(msg("e")));
      assert.deepEqual(await queue.receive(), []);
      const [poisoned] = await queue.receivePoison();
      assert.equal(decodeTaskMessage(poisoned.body).task, "e");
      await poisoned.complete();
    });
  });
}

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

queueContract("AzureTaskQueue on Azurite", async () => new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, "tasks-contract"));
queueContract("InProcessTaskQueue", async () => new InProcessTaskQueue());
