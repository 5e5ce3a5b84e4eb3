// Delivery faults on Azurite's queue, through the real driver, executor, dispatch state and publish path
// (the stand-in tasks of the queue tests publish one-row Delta tables through publishTable, guarded by the
// task's hold on its run): every message twice, messages out of order, a redelivery while the first
// worker still runs, a message that cannot be read, a task that fails on every attempt, an old message
// version, and a message of a run that already ended. Each must leave every task run once (or refused),
// the right values published and a record that says what happened.

import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { Engine } from "../../runtime/engine/engine.ts";
import { AzureLake } from "../../runtime/lake/azure-lake.ts";
import type { Lake } from "../../runtime/lake/lake.ts";
import { QueueRuntime, type QueueRuntimeOptions, type TaskRunner } from "../../runtime/orchestration/azure/context.ts";
import { startRun } from "../../runtime/orchestration/azure/driver.ts";
import { handleTaskMessage } from "../../runtime/orchestration/azure/executor.ts";
import { runWorker } from "../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../runtime/orchestration/queue/azure-queue.ts";
import { readKeptMessage, type TaskMessage } from "../../runtime/orchestration/queue/message.ts";
import type { SendOptions, TaskQueue } from "../../runtime/orchestration/queue/task-queue.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";
import { RunRecords } from "../../runtime/state/run-records.ts";
import { Monitor } from "../../runtime/telemetry/monitor.ts";
import { executions, publishingRunner, tableOf, tableValue, testPipeline } from "../runtime/orchestration/azure/fixture.ts";
import { type ClassResult, classResult, tryCase } from "./report.ts";

const EXPECTED = { a: 1, b: 2, m: 3, g: 30 };
const TASKS = ["a", "b", "m", "g"] as const;

/** The Azure queue, sending each message twice when `twice` (at-least-once delivery at its worst). */
class DuplicatingQueue implements TaskQueue {
  readonly processBound = false;
  constructor(readonly inner: AzureTaskQueue, private readonly twice: boolean) {}
  get name() {
    return this.inner.name;
  }
  async send(message: TaskMessage, options?: SendOptions) {
    await this.inner.send(message, options);
    if (this.twice) await this.inner.send(message, options);
  }
  sendPoison: TaskQueue["sendPoison"] = (b, o) => this.inner.sendPoison(b, o);
  receive: TaskQueue["receive"] = (o) => this.inner.receive(o);
  receivePoison: TaskQueue["receivePoison"] = (o) => this.inner.receivePoison(o);
  ensure = () => this.inner.ensure();
  depth = () => this.inner.depth();
}

export async function deliveryFaults(connectionString: string): Promise<ClassResult[]> {
  const engine = await Engine.create({ memoryLimit: "256MB", threads: 1 }, { directories: [tmpdir()] });
  const setup = (options: { twice?: boolean; runTask?: TaskRunner; extra?: Partial<QueueRuntimeOptions> } = {}) => {
    const id = randomBytes(4).toString("hex");
    const lake = new AzureLake({ connection: { kind: "connectionString", connectionString }, root: `d-${id}` });
    const azure = new AzureTaskQueue({ kind: "connectionString", connectionString }, `delivery-${id}`);
    const rt = new QueueRuntime({
      pipeline: testPipeline, lake, queue: new DuplicatingQueue(azure, options.twice ?? false), secrets: new SecretChain([]),
      projectRoot: process.cwd(), monitor: new Monitor({ sink: () => undefined }), retry: { baseDelaySeconds: 1, maxAttempts: 2 },
      runTask: options.runTask ?? publishingRunner({ a: 1, b: 2 }), parkSeconds: 1, ...options.extra,
    });
    return { lake, azure, rt };
  };
  const values = async (lake: Lake) => Object.fromEntries(await Promise.all(TASKS.map(async (t) => [t, await tableValue(engine, lake, tableOf(t))] as const)));
  const work = (rt: QueueRuntime, runId: string, workers = 2) => {
    const until = async () => (await rt.dispatch.read(testPipeline.name, runId))?.state.status !== "running";
    return Promise.all(Array.from({ length: workers }, () => runWorker(rt, { until, pollMs: 50, visibilitySeconds: 5 })));
  };
  /** What must hold after a run that should succeed: values, one execution per task, an honest record. */
  const succeededOnce = async (s: ReturnType<typeof setup>, runId: string, ranOnce: readonly string[] = TASKS): Promise<string | undefined> => {
    const got = await values(s.lake);
    if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) return `published ${JSON.stringify(got)}, expected ${JSON.stringify(EXPECTED)}`;
    for (const t of ranOnce) {
      const n = await executions(s.lake, t);
      if (n !== 1) return `task ${t} ran ${n} times`;
    }
    const record = await s.rt.records.get(testPipeline.name, runId);
    if (record?.status !== "succeeded") return `run record says ${record?.status}`;
    const notDone = Object.values(record.tasks).filter((t) => t.status !== "succeeded");
    return notDone.length ? `tasks recorded ${notDone.map((t) => `${t.task}=${t.status}`).join(", ")}` : undefined;
  };
  const start = async (s: ReturnType<typeof setup>) => {
    await s.azure.ensure();
    const started = await startRun(s.rt, { trigger: "fault-suite" });
    if (!started.started) throw new Error(`run not started: ${started.reason}`);
    return started.runId;
  };

  const cases = [];
  try {
    cases.push(await tryCase("duplicate: every message sent twice", async () => {
      const s = setup({ twice: true });
      const runId = await start(s);
      await work(s.rt, runId);
      return (await succeededOnce(s, runId)) ?? (await s.rt.close(), undefined);
    }));

    cases.push(await tryCase("out of order: dependents' messages before their inputs ran, a retry's message before the first", async () => {
      const s = setup();
      const runId = await start(s);
      // Early messages for tasks that are still waiting, and one for an attempt that does not exist yet.
      for (const [task, attempt] of [["g", 1], ["m", 1], ["a", 2]] as const) await s.azure.send({ v: 1, runId, pipeline: testPipeline.name, task, attempt });
      await work(s.rt, runId);
      return (await succeededOnce(s, runId)) ?? (await s.rt.close(), undefined);
    }));

    cases.push(await tryCase("redelivery while the first worker still runs: the takeover publishes, the first is refused", async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      let first = true;
      const runner = publishingRunner({ a: 1, b: 2 }, { a: () => (first ? ((first = false), entered(), held) : Promise.resolve()) });
      const s = setup({ runTask: runner });
      const runId = await start(s);
      // The first delivery of a's message: its worker stalls inside the task (before publishing).
      const [message] = await waitFor(() => receiveTask(s.azure, "a"));
      const firstRun = handleTaskMessage(s.rt, message.body, { messageId: message.id, dequeueCount: 1 });
      await inside;
      // The queue hands the same message out again (its visibility lapsed): the redelivery takes a over.
      const second = await handleTaskMessage(s.rt, message.body, { messageId: message.id, dequeueCount: 2 });
      if (second.action !== "ran" || second.record.status !== "succeeded") return `the redelivery did not take over: ${JSON.stringify(second)}`;
      release();
      const late = await firstRun;
      if (late.action !== "ran" || late.record.status !== "abandoned") return `the first worker ended ${JSON.stringify(late)}, expected abandoned (refused to publish)`;
      await message.complete().catch(() => undefined);
      await work(s.rt, runId);
      // a ran twice (both executions are marked), but published once: its table has one version from this run.
      return (await succeededOnce(s, runId, ["b", "m", "g"])) ?? (await s.rt.close(), undefined);
    }));

    cases.push(await tryCase("poison: a message that is not JSON is kept in the poison queue with its reason", async () => {
      const s = setup();
      await s.azure.ensure();
      await s.azure.queue.sendMessage(Buffer.from("{not json").toString("base64"));
      const runId = await start(s);
      await work(s.rt, runId);
      const kept = await keptMessages(s.azure);
      if (!kept.some((k) => /invalid task message: not JSON/.test(k.reason))) return `poison queue holds ${JSON.stringify(kept)}`;
      return (await succeededOnce(s, runId)) ?? (await s.rt.close(), undefined);
    }));

    cases.push(await tryCase("poison: a task failing on every attempt fails the run, skips its downstream, publishes nothing after it", async () => {
      const failing: TaskRunner = async (task, ctx, attempt) => task.id === "m"
        ? { task: task.id, stage: task.stage, kind: ctx.stage.kind, attempt, status: "failed", error: "source unreachable (injected)" }
        : publishingRunner({ a: 1, b: 2 })(task, ctx, attempt);
      const s = setup({ runTask: failing });
      const runId = await start(s);
      await work(s.rt, runId);
      const record = await new RunRecords(s.lake).get(testPipeline.name, runId);
      const statuses = TASKS.map((t) => record?.tasks[t]?.status).join(",");
      if (record?.status !== "failed" || statuses !== "succeeded,succeeded,failed,skipped") return `record ${record?.status}: ${statuses}`;
      if (!Number.isNaN(await tableValue(engine, s.lake, tableOf("g")))) return "g was published after its input failed";
      await s.rt.close();
      return undefined;
    }));

    cases.push(await tryCase("old message version (v: 0) and a newer one (v: 2): kept in the poison queue, nothing runs", async () => {
      const s = setup();
      const runId = await start(s);
      for (const v of [0, 2]) await s.azure.queue.sendMessage(Buffer.from(JSON.stringify({ v, runId, pipeline: testPipeline.name, task: "a", attempt: 1 })).toString("base64"));
      await work(s.rt, runId);
      const kept = await keptMessages(s.azure);
      if (kept.filter((k) => /invalid task message: v: /.test(k.reason)).length !== 2) return `poison queue holds ${JSON.stringify(kept.map((k) => k.reason))}`;
      return (await succeededOnce(s, runId)) ?? (await s.rt.close(), undefined);
    }));

    cases.push(await tryCase("a message of a run that already ended, delivered during the next run: ignored", async () => {
      const s = setup();
      const first = await start(s);
      await work(s.rt, first);
      const second = await start(s);
      // The first run's root message arrives again, now.
      const outcome = await handleTaskMessage(s.rt, { v: 1, runId: first, pipeline: testPipeline.name, task: "a", attempt: 1 }, { messageId: "old", dequeueCount: 1 });
      if (outcome.action !== "ignored") return `ran: ${JSON.stringify(outcome)}`;
      await work(s.rt, second);
      const got = await values(s.lake);
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) return `published ${JSON.stringify(got)}`;
      const runs = await new RunRecords(s.lake).latest(testPipeline.name);
      await s.rt.close();
      return runs.every((r) => r.status === "succeeded") ? undefined : `runs ${runs.map((r) => r.status).join(",")}`;
    }));
  } finally {
    await engine.close();
  }
  return [classResult("delivery faults (Azurite queue)", cases)];
}

async function receiveTask(queue: AzureTaskQueue, task: string) {
  const received = await queue.receive({ max: 32, visibilityTimeoutSeconds: 30 });
  const mine = received.filter((m) => Buffer.from(m.body, "base64").toString().includes(`"task":"${task}"`));
  for (const m of received) if (!mine.includes(m)) await m.abandon(0);
  return mine.length ? mine : undefined;
}

/** The messages kept in the poison queue, once their parking (one second here) is over. */
async function keptMessages(queue: AzureTaskQueue) {
  await sleep(1_500);
  const out = [];
  for (const m of await queue.receivePoison({ max: 32, visibilityTimeoutSeconds: 30 })) {
    const kept = readKeptMessage(m.body);
    if (kept) out.push(kept);
  }
  return out;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await sleep(50);
  }
}
