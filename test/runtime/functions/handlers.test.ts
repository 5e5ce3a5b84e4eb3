// The Functions handlers invoked as the host invokes them (an InvocationContext with the queue trigger's
// metadata, an HttpRequest, a Timer), wired from app settings to a real Azurite, with stand-in tasks.

import assert from "node:assert/strict";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import functions, { type Timer } from "@azure/functions";
import type { QueueRuntime } from "../../../runtime/orchestration/azure/context.ts";
import { AzureTaskQueue } from "../../../runtime/orchestration/queue/azure-queue.ts";
import { createHandlers } from "../../../runtime/functions/handlers.ts";
import { projectRoot, runtimeFromSettings } from "../../../runtime/functions/instance.ts";
import type { RunRecord } from "../../../runtime/state/run-records.ts";
import { Engine } from "../../../runtime/engine/engine.ts";
import { overwriteTable } from "../../../runtime/lake/delta/overwrite.ts";
import type { TableLocation } from "../../../runtime/query/locations.ts";
import { Monitor } from "../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../helpers/azurite.ts";
import { EXPECTED, fakeRunner, outputs, testPipeline } from "../orchestration/azure/fixture.ts";

// A CommonJS package whose classes Node's ESM loader cannot name: take them from the default export.
const { HttpRequest, InvocationContext } = functions;
type HttpRequest = InstanceType<typeof HttpRequest>;

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(async () => {
  await azurite?.stop();
});

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

function http(method: "GET" | "POST", path: string, body?: string): HttpRequest {
  const runId = /\/api\/runs\/([^/?]+)/.exec(path)?.[1];
  return new HttpRequest({ method, url: `http://localhost:7071${path}`, body: body === undefined ? undefined : { string: body }, params: runId ? { runId } : {} });
}

describe("Functions handlers", () => {
  let rt: QueueRuntime;
  let queue: AzureTaskQueue;
  let handlers: ReturnType<typeof createHandlers>;
  const logs: string[] = [];
  const context = (functionName: string, triggerMetadata?: Record<string, unknown>) =>
    new InvocationContext({ invocationId: randomBytes(8).toString("hex"), functionName, triggerMetadata, logHandler: (_l, ...args) => logs.push(args.join(" ")) });

  before(async () => {
    const env = {
      MALLARD_LAKE_CONNECTION_STRING: azurite.connectionString,
      MALLARD_STORAGE: azurite.connectionString,
      MALLARD_TASK_QUEUE: "fn-tasks",
      MALLARD_ENGINE_MEMORY_LIMIT: "512MB",
    };
    rt = await runtimeFromSettings(testPipeline, env, {
      runTask: fakeRunner({ checkFails: [] }),
      monitor: new Monitor({ sink: () => undefined }),
    });
    assert.equal(rt.pipeline.engine.memoryLimit, "512MB");
    queue = rt.queue as AzureTaskQueue;
    await queue.ensure();
    handlers = createHandlers(async () => rt);
  });
  after(async () => {
    await rt.close();
  });

  /** What the host does: receive, decode base64 to the JSON object, invoke, delete on success. */
  async function drain(): Promise<number> {
    let handled = 0;
    for (let idle = 0; idle < 3; ) {
      const [message] = await queue.receive({ max: 1, visibilityTimeoutSeconds: 60 });
      if (!message) {
        idle++;
        continue;
      }
      idle = 0;
      const entry = JSON.parse(Buffer.from(message.body, "base64").toString("utf8")) as unknown;
      await handlers.executor(entry, context("executor", { id: message.id, dequeueCount: message.dequeueCount, insertionTime: new Date().toISOString() }));
      await message.complete();
      handled++;
    }
    return handled;
  }

  it("POST /api/runs starts a run (202); a second POST while it is active is refused (409)", async () => {
    const started = await handlers.runs(http("POST", "/api/runs", ""), context("runs"));
    assert.equal(started.status, 202);
    const runId = (started.jsonBody as { runId: string }).runId;
    const again = await handlers.runs(http("POST", "/api/runs"), context("runs"));
    assert.equal(again.status, 409);
    assert.equal((again.jsonBody as { activeRunId: string }).activeRunId, runId);

    assert.equal(await drain(), 4);
    const status = await handlers.runs(http("GET", `/api/runs/${runId}`), context("runs"));
    assert.equal(status.status, 200);
    assert.equal((status.jsonBody as RunRecord).status, "succeeded");
    assert.deepEqual(await outputs(rt.lake), EXPECTED);
    // The executor that closed the run wrote its report into the lake; the record links to it.
    assert.equal((status.jsonBody as { report?: string }).report, `/api/runs/${runId}/report`);
    const report = await handlers.runReport(http("GET", `/api/runs/${runId}/report`), context("run_report"));
    assert.equal(report.status, 200);
    assert.match(String((report.headers as Record<string, string>)["content-type"]), /^text\/html/);
    assert.match(String(report.body), new RegExp(`<title>[^<]*run ${runId} \\(succeeded\\)</title>`));
    assert.equal((await handlers.runReport(http("GET", "/api/runs/20990101T000000Z-nope/report"), context("run_report"))).status, 404);

    const list = await handlers.runs(http("GET", "/api/runs?limit=5"), context("runs"));
    assert.equal((list.jsonBody as { runs: RunRecord[] }).runs[0].runId, runId);
    assert.deepEqual((list.jsonBody as { queue: unknown }).queue, { tasks: 0, poison: 0 });
  });

  it("GET /api/runs lists every written table's Delta address and latest version, for outside readers", async () => {
    const engine = await Engine.create({ threads: 1, memoryLimit: "256MB" });
    try {
      for (const n of [1, 2]) await engine.withConnection((con) => overwriteTable(rt.lake, con, { root: "gold/g", query: `SELECT ${n} AS n`, workDir: engine.workDir }));
    } finally {
      await engine.close();
    }
    const list = await handlers.runs(http("GET", "/api/runs"), context("runs"));
    const tables = (list.jsonBody as { tables: TableLocation[] }).tables;
    assert.deepEqual(tables.find((t) => t.name === "g"), { name: "g", stage: "g", path: rt.lake.externalPath("gold/g"), format: "delta", version: 1 });
    assert.ok(!tables.some((t) => t.name === "m"), "a table never written is not listed");
  });

  it("the timer starts the next run; a redelivered executor message for a finished task does nothing", async () => {
    await handlers.driver(timer, context("driver"));
    assert.match(logs.at(-1) ?? "", /started run/);
    const [message] = await queue.receive({ max: 1, visibilityTimeoutSeconds: 60 });
    const entry = JSON.parse(Buffer.from(message.body, "base64").toString("utf8")) as unknown;
    const meta = { id: message.id, dequeueCount: 1 };
    await handlers.executor(entry, context("executor", meta));
    await handlers.executor(entry, context("executor", { ...meta, dequeueCount: 2 }));
    assert.match(logs.at(-1) ?? "", /ignored: task \w+ already succeeded/);
    await message.complete();
    await drain();
  });

  it("a message on the poison queue fails its task and the run; the run record says so", async () => {
    const started = await handlers.runs(http("POST", "/api/runs", JSON.stringify({ select: ["a", "b", "m"] })), context("runs"));
    assert.equal(started.status, 202);
    const runId = (started.jsonBody as { runId: string }).runId;
    // The host gives up on a's message after maxDequeueCount deliveries and moves it here.
    const messages = await queue.receive({ max: 8, visibilityTimeoutSeconds: 60 });
    const a = messages.find((m) => Buffer.from(m.body, "base64").toString().includes('"task":"a"'))!;
    await handlers.poison(Buffer.from(a.body, "base64").toString(), context("poison", { id: a.id, dequeueCount: 5 }));
    await a.complete();
    for (const m of messages) if (m !== a) await m.abandon(0);
    await drain();
    const record = (await handlers.runs(http("GET", `/api/runs/${runId}`), context("runs"))).jsonBody as RunRecord;
    assert.equal(record.status, "failed");
    assert.equal(record.tasks.a.status, "failed");
    assert.equal(record.tasks.m.status, "skipped");
    assert.equal(record.tasks.b.status, "succeeded");
    assert.equal(record.error?.stage, "a");
  });

  it("moves a garbled message to the poison queue instead of retrying it, and answers bad HTTP calls", async () => {
    await handlers.executor("not a task", context("executor", { id: "x1", dequeueCount: 1 }));
    // Kept in the poison queue (parked, so the poison trigger does not take it straight back).
    assert.equal((await queue.depth()).poison, 1);
    assert.deepEqual(await queue.receivePoison(), [], "parked: invisible until it surfaces");
    assert.equal((await handlers.runs(http("GET", "/api/runs/20990101T000000Z-nope"), context("runs"))).status, 404);
    assert.equal((await handlers.runs(http("POST", "/api/runs", "{oops"), context("runs"))).status, 400);
    assert.equal((await handlers.runs(http("POST", "/api/runs", JSON.stringify({ select: ["nosuch"] })), context("runs"))).status, 400);
  });

  it("refuses to start without the lake and queue settings, naming them", async () => {
    await assert.rejects(runtimeFromSettings(testPipeline, {}), /MALLARD_LAKE_ACCOUNT.*MALLARD_STORAGE__queueServiceUri/);
    // From source, the project root is the repository root (where transformations/ is), wherever it is cloned.
    assert.equal(projectRoot({}), resolve(fileURLToPath(new URL("../../..", import.meta.url))));
    assert.equal(projectRoot({ MALLARD_PROJECT_ROOT: "/srv/app" }), "/srv/app");
  });
});

describe("Functions handlers with a wrong storage key", () => {
  it("the timer fails with one line naming the lake, and the runs endpoint answers it, with no stack and no key", async () => {
    const WRONG = Buffer.from("not-the-account-key-not-the-key!").toString("base64");
    const wrong = azurite.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${WRONG}`);
    const rt = await runtimeFromSettings(testPipeline, { MALLARD_LAKE_CONNECTION_STRING: wrong, MALLARD_STORAGE: wrong, MALLARD_TASK_QUEUE: "fn-wrong-key" }, {
      runTask: fakeRunner({}), monitor: new Monitor({ sink: () => undefined }),
    });
    const logs: string[] = [];
    const context = () => new InvocationContext({ invocationId: "wrong-key", functionName: "driver", logHandler: (_l, ...args) => logs.push(args.join(" ")) });
    try {
      const handlers = createHandlers(async () => rt);
      await assert.rejects(handlers.driver(timer, context()), (e: Error) => {
        assert.equal(e.name, "LakeError");
        assert.match(e.message, /^cannot read the lake at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1: Server failed to authenticate the request\./);
        assert.doesNotMatch(e.message, /\n|RequestId/);
        return true;
      });
      const response = await handlers.runs(http("POST", "/api/runs", "{}"), context());
      assert.equal(response.status, 400);
      const error = (response.jsonBody as { error: string }).error;
      assert.match(error, /^cannot read the lake at .*: Server failed to authenticate the request\.[^\n]*$/);
      assert.ok(![error, ...logs].some((text) => text.includes(WRONG)), "no key printed");
    } finally {
      await rt.close();
    }
  });
});
