// Runs whose process died are shown as abandoned and never block the next run: a `mallard run` killed
// with SIGKILL (status says abandoned at once; the next run marks it so), and a `mallard run --queue` on a
// local lake killed with its in-process queue (the next one starts at once instead of after the lease).
// Real processes, a real local lake, the real CLI for status.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalLake } from "../../../runtime/lake/local-lake.ts";
import { runThroughQueue } from "../../../runtime/orchestration/azure/worker.ts";
import { runLocal } from "../../../runtime/orchestration/local-runner.ts";
import { InProcessTaskQueue } from "../../../runtime/orchestration/queue/memory-queue.ts";
import { SecretChain } from "../../../runtime/secrets/secrets.ts";
import { RunRecords } from "../../../runtime/state/run-records.ts";
import { Monitor } from "../../../runtime/telemetry/monitor.ts";
import { EXPECTED, fakeRunner, outputs, testPipeline } from "./azure/fixture.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "mallard-abandoned-"));
  // `mallard status` reads the pipeline from a declaration file: the fixture's pipeline, in YAML.
  await writeFile(join(dir, "pipeline.yml"), `
name: qtest
schedule: "0 */15 * * * *"
sources:
  src: { kind: postgres, connection: "postgres://unused" }
stages:
  - bronze: a
    source: src
    table: public.a
    primaryKey: id
  - bronze: b
    source: src
    table: public.b
    primaryKey: id
  - silver: m
    from: [a, b]
    sql: select * from a
  - gold: g
    from: m
    sql: select * from m
`);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs the pipeline in a child process that kills itself inside task m. */
async function killedRun(lakeDir: string, mode: "local" | "queue"): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "run-process.ts")], {
    env: { ...process.env, LAKE: lakeDir, MODE: mode, FAKE_KILL_IN: "m" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (c: Buffer) => (log += c.toString()));
  const signal = await new Promise<string | null>((done) => child.once("exit", (_code, sig) => done(sig)));
  assert.equal(signal, "SIGKILL", log);
}

function status(lakeDir: string): string {
  const r = spawnSync(process.execPath, [resolve("runtime/cli/bin.mjs"), "status", "--config", "pipeline.yml", "--lake", lakeDir], { cwd: dir, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const common = (lakeDir: string) => ({ pipeline: testPipeline, lake: new LocalLake(lakeDir), secrets: new SecretChain([]), projectRoot: process.cwd(), trigger: "test" });

describe("runs whose process died", () => {
  it("a local run killed with SIGKILL shows as abandoned, and the next run marks it so and succeeds", async () => {
    const lakeDir = join(dir, "local");
    await killedRun(lakeDir, "local");
    const records = new RunRecords(new LocalLake(lakeDir));
    const [dead] = await records.latest(testPipeline.name);
    assert.equal(dead.status, "running", "the record was left as it was when the process died");
    const shown = status(lakeDir);
    assert.match(shown, new RegExp(`${dead.runId}  abandoned .* 2 ok, 0 failed, 0 skipped, 2 abandoned  — \\(run\\): abandoned: its process \\(pid \\d+ on .*\\) ended without finishing it`));

    const runTask = fakeRunner();
    const next = await runLocal({ ...common(lakeDir), runTask: (task, ctx) => runTask(task, ctx, 1) });
    assert.equal(next.status, "succeeded");
    assert.deepEqual(await outputs(new LocalLake(lakeDir)), EXPECTED);
    const marked = await records.get(testPipeline.name, dead.runId);
    assert.equal(marked?.status, "abandoned");
    assert.deepEqual(Object.values(marked?.tasks ?? {}).map((t) => [t.task, t.status]), [["a", "succeeded"], ["b", "succeeded"], ["m", "abandoned"], ["g", "abandoned"]]);
    assert.doesNotMatch(status(lakeDir), / running /);
  });

  it("a `run --queue` on a local lake killed with its in-process queue does not block the next one", async () => {
    const lakeDir = join(dir, "queue");
    await killedRun(lakeDir, "queue");
    const records = new RunRecords(new LocalLake(lakeDir));
    const [dead] = await records.latest(testPipeline.name);
    assert.match(status(lakeDir), new RegExp(`${dead.runId}  abandoned `));

    const record = await runThroughQueue({
      ...common(lakeDir), queue: new InProcessTaskQueue(), runTask: fakeRunner(), monitor: new Monitor({ sink: () => undefined }), pollMs: 50,
    });
    assert.equal(record.status, "succeeded", "started at once, not refused as still active for the lease time");
    assert.deepEqual(await outputs(new LocalLake(lakeDir)), EXPECTED);
    const marked = await records.get(testPipeline.name, dead.runId);
    assert.equal(marked?.status, "abandoned");
    assert.match(marked?.error?.message ?? "", /^abandoned: its process \(pid \d+ on .*\) ended without finishing it$/);
  });
});
