// `mallard run --queue` picks its queue from the lake: in-process for a folder, Azure Storage Queue for an
// Azure lake; and the same protocol runs on the in-process queue with a local-folder lake.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { runThroughQueue } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { InProcessTaskQueue } from "../../../../runtime/orchestration/queue/memory-queue.ts";
import { openTaskQueue } from "../../../../runtime/orchestration/queue/open-queue.ts";
import { SecretChain } from "../../../../runtime/secrets/secrets.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { EXPECTED, executions, fakeRunner, outputs, testPipeline } from "../azure/fixture.ts";

describe("openTaskQueue", () => {
  it("is in-process for a folder lake and Azure for an Azure lake", async () => {
    assert.ok((await openTaskQueue("./.mallard/lake")) instanceof InProcessTaskQueue);
    const azurite = await openTaskQueue("UseDevelopmentStorage=true", "queue1");
    assert.ok(azurite instanceof AzureTaskQueue && azurite.name === "queue1");
    const azure = await openTaskQueue("abfss://gold@mallarddev.dfs.core.windows.net/");
    assert.ok(azure instanceof AzureTaskQueue);
    assert.equal(azure.queue.url, "https://mallarddev.queue.core.windows.net/mallard-tasks");
  });

  it("runs the queue protocol in process over a local-folder lake", async () => {
    const root = await mkdtemp(join(tmpdir(), "mallard-inproc-"));
    try {
      const lake = new LocalLake(root);
      const events: string[] = [];
      const record = await runThroughQueue({
        pipeline: testPipeline, lake, queue: new InProcessTaskQueue(), secrets: new SecretChain([]), projectRoot: process.cwd(),
        monitor: new Monitor({ sink: () => undefined }), runTask: fakeRunner({ failAttempts: { b: [1] } }), retry: { baseDelaySeconds: 0 },
        workers: 3, pollMs: 20, onEvent: (e) => events.push(e.type === "task-end" ? `end:${e.task.id}:${e.record.status}` : e.type),
      });
      assert.equal(events[0], "run-start");
      assert.equal(events.at(-1), "run-end");
      assert.deepEqual(events.filter((e) => e.startsWith("end:")).sort(), ["end:a:succeeded", "end:b:failed", "end:b:succeeded", "end:g:succeeded", "end:m:succeeded"]);
      assert.equal(record.status, "succeeded");
      assert.deepEqual(await outputs(lake), EXPECTED);
      assert.equal(await executions(lake, "b"), 2);
      assert.equal(await executions(lake, "m"), 1);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
