// Loads a built function zip the way Flex Consumption does: unpacked into a folder, imported by a fresh
// Node process in which a stand-in for `@azure/functions-core` (the module the Functions host injects into
// `@azure/functions`) records every function the app registers. It then waits for the app's load-time
// checks and opens DuckDB through the binding shipped in the zip.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { BUNDLE_ENTRY, ENCODER_WORKER_ENTRY, NATIVE_BINDING, zipFiles } from "../../../infra/bundle/bundle.ts";

/** Stand-in for the host's `@azure/functions-core`: records what the app registers. */
const FAKE_CORE = `
const registrations = [];
globalThis.__mallardRegistrations = registrations;
module.exports = {
  version: "4.0.0-test",
  hostVersion: "4.0.0-test",
  setProgrammingModel(model) { globalThis.__mallardProgrammingModel = model.name; },
  getProgrammingModel() { return undefined; },
  registerFunction(metadata) { registrations.push(metadata); return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  log() {},
};`;

/** Runs in the fresh process: imports the bundle, awaits its checks, opens DuckDB through the shipped binding. */
const PROBE = `
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
const dir = process.argv[2];
const t0 = performance.now();
const app = await import(pathToFileURL(dir + "/${BUNDLE_ENTRY}").href);
const importMs = performance.now() - t0;
const checked = await app.functions.checked.then(() => "passed", (e) => e.message);
const checkMs = performance.now() - t0 - importMs;
const require = createRequire(dir + "/${BUNDLE_ENTRY}");
const bindingPath = require.resolve("${NATIVE_BINDING}/duckdb.node");
const t1 = performance.now();
const duckdb = require("${NATIVE_BINDING}/duckdb.node");
const db = await duckdb.open(":memory:");
const connection = await duckdb.connect(db);
const result = await duckdb.query(connection, "select 40 + 2 as answer");
const chunk = await duckdb.fetch_chunk(result);
const answer = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk, 0), 4).readInt32LE(0);
const openMs = performance.now() - t1;
// The Parquet encoder's worker, from its own file in the zip: it opens DuckDB through the same binding.
const { MessageChannel, Worker } = await import("node:worker_threads");
const { port1, port2 } = new MessageChannel();
const worker = new Worker(dir + "/${ENCODER_WORKER_ENTRY}", {
  workerData: { memoryLimit: "64MB", tempDirectory: dir + "/spill", setup: ["SET enable_external_access = false"], port: port2, signal: new Int32Array(new SharedArrayBuffer(8)) },
  transferList: [port2],
});
const encoder = await new Promise((resolve) => {
  worker.once("message", (m) => resolve(m.ready ? "ready" : JSON.stringify(m)));
  worker.once("error", (e) => resolve(e.message));
});
await worker.terminate();
port1.close();
console.log(JSON.stringify({
  importMs, checkMs, openMs, answer, bindingPath, checked, encoder,
  programmingModel: globalThis.__mallardProgrammingModel,
  registrations: globalThis.__mallardRegistrations,
}));`;

/** One registered function by its trigger: the binding's type and what it is bound to. */
export interface RegisteredFunction {
  trigger: string;
  schedule?: string;
  queueName?: string;
  connection?: string;
  route?: string;
  methods?: string[];
}

export interface LoadedBundle {
  /** Registered functions by name. */
  functions: Record<string, RegisteredFunction>;
  programmingModel: string;
  /** "passed", or the message the app's load-time checks failed with. */
  checked: string;
  answer: number;
  /** "ready" once the Parquet encoder's worker started from the zip, else why not. */
  encoder: string;
  bindingPath: string;
  appDir: string;
  importMs: number;
  checkMs: number;
  openMs: number;
}

/** The app settings Azure would give the app, as infra/app-settings.ts writes them. */
export const TEST_APP_SETTINGS = {
  MALLARD_TASK_QUEUE: "mallard-tasks",
  MALLARD_LAKE_ACCOUNT: "mallarddevlake000000",
  MALLARD_STORAGE__queueServiceUri: "https://mallarddevlake000000.queue.core.windows.net/",
};

export async function loadBundle(zipPath: string, settings: Record<string, string> = TEST_APP_SETTINGS): Promise<LoadedBundle> {
  const work = await mkdtemp(join(tmpdir(), "mallard-app-"));
  const appDir = join(work, "app");
  for (const file of await zipFiles(zipPath)) {
    await mkdir(dirname(join(appDir, file.path)), { recursive: true });
    await writeFile(join(appDir, file.path), file.data);
  }
  // What the host injects; never part of the zip.
  await mkdir(join(appDir, "node_modules/@azure/functions-core"), { recursive: true });
  await writeFile(join(appDir, "node_modules/@azure/functions-core/index.js"), FAKE_CORE);
  await writeFile(join(appDir, "node_modules/@azure/functions-core/package.json"), '{"name":"@azure/functions-core","main":"index.js"}');
  const probe = join(work, "probe.mjs");
  await writeFile(probe, PROBE);

  const env = { PATH: process.env.PATH, ...settings };
  const { stdout } = await promisify(execFile)(process.execPath, [probe, appDir], { cwd: appDir, env, maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout.trim().split("\n").pop()!);
  const functions: Record<string, RegisteredFunction> = {};
  for (const r of report.registrations as { name: string; bindings: Record<string, Record<string, unknown>> }[]) {
    const trigger = Object.values(r.bindings).find((b) => b.direction === "in" && /Trigger$/.test(String(b.type)));
    if (!trigger) throw new Error(`function ${r.name} has no trigger`);
    const { type, direction: _direction, name: _name, properties: _properties, ...bound } = trigger;
    functions[r.name] = { trigger: String(type), ...(bound as Omit<RegisteredFunction, "trigger">) };
  }
  return { ...report, functions, appDir };
}
