// End to end on real services: the sample shop in the real PostgreSQL (MALLARD_TEST_PG_URL, default
// 127.0.0.1:5432), the sample pipeline (configs/pipeline.ts) run once in-process into a local lake and
// once through the Azure Storage queue on Azurite with three concurrent executors into an AzureLake.
// Gold must be identical, after the first load and after an incremental one; a source unreachable for
// the first two attempts costs retries, not data.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { DEFAULT_CONFIG, loadPipeline } from "../../../../runtime/config/load-pipeline.ts";
import type { Pipeline } from "../../../../runtime/declare/pipeline.ts";
import type { RunRecord } from "../../../../runtime/state/run-records.ts";
import type { Source } from "../../../../runtime/declare/sources.ts";
import { mutateShop, seedShop, type SqlExecutor } from "../../../../runtime/demo/shop-data.ts";
import { Engine } from "../../../../runtime/engine/engine.ts";
import { AzureLake } from "../../../../runtime/lake/azure-lake.ts";
import type { Lake } from "../../../../runtime/lake/lake.ts";
import { LocalLake } from "../../../../runtime/lake/local-lake.ts";
import { tableRoot } from "../../../../runtime/lake/tables.ts";
import { currentVersion, readTable } from "../../../helpers/lake.ts";
import { openConnector } from "../../../../runtime/orchestration/connectors.ts";
import { runLocal } from "../../../../runtime/orchestration/local-runner.ts";
import { QueueRuntime } from "../../../../runtime/orchestration/azure/context.ts";
import { startRun } from "../../../../runtime/orchestration/azure/driver.ts";
import { runThroughQueue, runWorker } from "../../../../runtime/orchestration/azure/worker.ts";
import { AzureTaskQueue } from "../../../../runtime/orchestration/queue/azure-queue.ts";
import { EnvSecretProvider, SecretChain, type SecretChain as Chain, secretEnvName } from "../../../../runtime/secrets/secrets.ts";
import type { SourceConnector } from "../../../../runtime/sources/source.ts";
import { Monitor } from "../../../../runtime/telemetry/monitor.ts";
import { type Azurite, startAzurite } from "../../../helpers/azurite.ts";

const ADMIN_URL = process.env.MALLARD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const projectRoot = resolve(import.meta.dirname, "../../../..");

async function goldRows(lake: Lake, engine: Engine, pipeline: Pipeline): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const stage of pipeline.stages.filter((s) => s.layer === "gold")) {
    assert.ok(await currentVersion(engine, lake, tableRoot("gold", stage.name)), `gold ${stage.name} was published`);
    const rows = await readTable(engine, lake, tableRoot("gold", stage.name));
    out[stage.name] = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).sort();
  }
  return out;
}

describe("the sample pipeline through the Azure queue equals the local run (Azurite + PostgreSQL)", () => {
  let azurite: Azurite;
  let admin: pg.Client;
  let db: pg.Client;
  let dbName: string;
  let work: string;
  let engine: Engine;
  let pipeline: Pipeline;
  let secrets: SecretChain;
  let sourceUrl: string;
  let localLake: LocalLake;
  let azureLake: AzureLake;
  let queue: AzureTaskQueue;

  before(async () => {
    azurite = await startAzurite();
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    dbName = `mallard_e2e_${randomBytes(4).toString("hex")}`;
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    const executor: SqlExecutor = { exec: (sql) => db.query(sql), query: async <T>(sql: string) => ({ rows: (await db.query(sql)).rows as T[] }) };
    assert.ok(await seedShop(executor));
    (db as unknown as { shop: SqlExecutor }).shop = executor;
    sourceUrl = url.toString();
    secrets = new SecretChain([new EnvSecretProvider({ [secretEnvName("shop-db-url")]: sourceUrl })]);
    pipeline = await loadPipeline(DEFAULT_CONFIG, projectRoot);
    work = await mkdtemp(join(tmpdir(), "mallard-e2e-"));
    localLake = new LocalLake(join(work, "lake"));
    azureLake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root: "e2e" });
    queue = new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, "e2e-tasks");
    engine = await Engine.create({ memoryLimit: "512MB" }, { directories: [tmpdir()] });
  });

  after(async () => {
    await engine?.close();
    await db?.end();
    if (dbName) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
    await azureLake?.cache.clear();
    await azurite?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const queueRun = (connect?: (source: Source, chain: Chain) => Promise<SourceConnector>) =>
    runThroughQueue({
      pipeline, lake: azureLake, queue, secrets, projectRoot, workers: 3, pollMs: 100,
      monitor: new Monitor({ sink: () => undefined }), retry: { baseDelaySeconds: 1 }, connect,
    });

  it("first load: same gold", async () => {
    const local = await runLocal({ pipeline, lake: localLake, secrets, projectRoot, trigger: "test" });
    assert.equal(local.status, "succeeded", JSON.stringify(local.error));
    const viaQueue = await queueRun();
    assert.equal(viaQueue.status, "succeeded", JSON.stringify(viaQueue.error));
    assert.deepEqual(Object.keys(viaQueue.tasks).sort(), Object.keys(local.tasks).sort());
    for (const [id, t] of Object.entries(local.tasks)) assert.equal(viaQueue.tasks[id].rowsOut, t.rowsOut, `rows out of ${id}`);
    const [a, b] = [await goldRows(localLake, engine, pipeline), await goldRows(azureLake, engine, pipeline)];
    assert.ok(Object.values(a).every((rows) => rows.length > 0));
    assert.deepEqual(b, a);
  });

  it("incremental load after source changes, with the source unreachable for the first two attempts: same gold", async () => {
    await mutateShop((db as unknown as { shop: SqlExecutor }).shop);
    const local = await runLocal({ pipeline, lake: localLake, secrets, projectRoot, trigger: "test" });
    assert.equal(local.status, "succeeded");
    let refused = 0;
    const flaky = async (source: Source, chain: Chain): Promise<SourceConnector> => {
      const connector = await openConnector(source, chain);
      return {
        where: connector.where,
        discover: async (resource) => {
          if (resource.kind === "table" && resource.table === "public.orders" && refused < 2) {
            refused++;
            throw new Error("connect ECONNREFUSED 127.0.0.1:5432 (injected)");
          }
          return connector.discover(resource);
        },
        read: (...args) => connector.read(...args),
        close: () => connector.close(),
      };
    };
    const viaQueue = await queueRun(flaky);
    assert.equal(viaQueue.status, "succeeded", JSON.stringify(viaQueue.error));
    assert.equal(refused, 2);
    assert.equal(viaQueue.tasks.orders.attempt, 3);
    for (const id of ["orders", "customers", "order_lines"]) {
      assert.equal(viaQueue.tasks[id].rowsOut, local.tasks[id].rowsOut, `incremental rows of ${id}: nothing lost or doubled`);
    }
    assert.deepEqual(await goldRows(azureLake, engine, pipeline), await goldRows(localLake, engine, pipeline));
  });

  // A fresh local run of the same source, made once: what every killed-and-recovered queue run must equal.
  let fresh: Promise<{ lake: LocalLake; record: RunRecord }> | undefined;
  const freshLocal = () => (fresh ??= (async () => {
    const lake = new LocalLake(join(work, "fresh"));
    const record = await runLocal({ pipeline, lake, secrets, projectRoot, trigger: "test" });
    assert.equal(record.status, "succeeded");
    return { lake, record };
  })());

  for (const [what, crashAt, root] of [
    ["killed mid-extraction (chunk uploaded, not committed)", "bronze:orders:after-upload:1", "e2e-kill"],
    // The takeover finds nothing left to load; the record must still count the 1,150 rows the run loaded.
    ["killed after loading customers, before recording it", "executor:customers:after-task", "e2e-takeover"],
  ] as const) {
    it(`an executor process ${what}: redelivered, same rows and gold as a fresh local run`, async () => {
      const { lake: localLake, record: local } = await freshLocal();
      const lake = new AzureLake({ connection: { kind: "connectionString", connectionString: azurite.connectionString }, root });
      const killQueue = new AzureTaskQueue({ kind: "connectionString", connectionString: azurite.connectionString }, `${root}-tasks`);
      const rt = new QueueRuntime({ pipeline, lake, queue: killQueue, secrets, projectRoot, monitor: new Monitor({ sink: () => undefined }) });
      await killQueue.ensure();
      const started = await startRun(rt, { trigger: "test" });
      assert.ok(started.started);
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "pipeline-worker-process.ts")], {
        env: {
          ...process.env, AZURITE: azurite.connectionString, QUEUE: `${root}-tasks`, ROOT: root, RUN_ID: started.runId, LEASE_SECONDS: "3",
          [secretEnvName("shop-db-url")]: sourceUrl, MALLARD_CRASH_AT: crashAt,
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let log = "";
      child.stderr.on("data", (c: Buffer) => (log += c.toString()));
      const signal = await new Promise<string | null>((resolve) => child.once("exit", (_code, sig) => resolve(sig)));
      assert.equal(signal, "SIGKILL", log.slice(-2000));
      const until = async () => (await rt.records.get(pipeline.name, started.runId))?.status !== "running";
      await Promise.all([runWorker(rt, { until, pollMs: 100 }), runWorker(rt, { until, pollMs: 100 })]);
      const record = await rt.records.get(pipeline.name, started.runId);
      await rt.close();
      assert.equal(record?.status, "succeeded", JSON.stringify(record?.error));
      for (const id of ["orders", "customers", "order_lines"]) {
        assert.equal(record?.tasks[id].rowsOut, local.tasks[id].rowsOut, `rows of ${id}: nothing lost or doubled`);
      }
      assert.deepEqual(await goldRows(lake, engine, pipeline), await goldRows(localLake, engine, pipeline));
      await lake.cache.clear();
    });
  }
});
