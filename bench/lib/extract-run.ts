// One extraction of the benchmark table, in its own process so its peak RSS (JS heap, DuckDB and
// buffers together) is measured alone. Prints one JSON line: {rows, seconds, cpu_seconds, peak_rss_mb, chunks, bytes}.
//
//   node --import tsx bench/lib/extract-run.ts --url <pg url> --table <schema.table> --lake <dir>
//        [--mode run|connector] [--chunk-rows N] [--codec zstd|snappy|uncompressed|lz4_raw] [--staging fifo|files]
//        [--compression-level N] [--row-group-rows N] (connector mode) [--threads N] [--wire binary|csv]
//        [--page-version v1|v2 [--dictionary]]
//
// `run` (the default) goes through runLocal, the code path of `mallard run`: a one-stage pipeline with a
// full-load bronze table, chunks committed to a local-folder lake. `connector` calls the connector alone
// (for codec and staging comparisons) and moves each chunk into the lake folder.

import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bronze, pipeline, source } from "../../runtime/declare/index.ts";
import { Engine } from "../../runtime/engine/engine.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { runLocal } from "../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";
import type { ChunkCodec } from "../../runtime/sources/csv/chunks.ts";
import type { StagingMode } from "../../runtime/sources/csv/staging.ts";
import { createPostgresConnector } from "../../runtime/sources/postgres/index.ts";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    table: { type: "string" },
    lake: { type: "string" },
    mode: { type: "string", default: "run" },
    "chunk-rows": { type: "string", default: "1000000" },
    codec: { type: "string" },
    "compression-level": { type: "string" },
    staging: { type: "string" },
    "row-group-rows": { type: "string" },
    threads: { type: "string" },
    wire: { type: "string" },
    "page-version": { type: "string" },
    dictionary: { type: "boolean", default: false },
  },
});
const url = args.url!;
const table = args.table!;
const chunkRows = Number(args["chunk-rows"]);

// Sample RSS too: maxRSS is exact but only at the end; the samples show how it grows (or does not).
let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 100);

// The clock starts after the imports, including those `mallard run` makes lazily on the way to the
// extraction (the stage's run code, the connector): from dist/ they are small chunks, through tsx they
// are compiled on first import, which is not the extraction's cost.
await import("../../runtime/stages/bronze-table/run.ts");
await import("../../runtime/sources/postgres/index.ts");

const started = performance.now();
const cpuStart = process.cpuUsage();
let rows = 0;
let threads: Record<string, number> | undefined;
let chunks = 0;
let bytes = 0;
if (args.mode === "run") {
  const db = source.postgres("bench", { connection: url, chunkRows });
  const stage = bronze.table(db, { table, name: "orders", primaryKey: "id" });
  const record = await runLocal({
    pipeline: pipeline("bench", { schedule: "0 0 * * * *", stages: [stage], ...(args.threads === undefined ? {} : { engine: { threads: Number(args.threads) } }) }),
    lake: new LocalLake(args.lake!),
    secrets: new SecretChain([]),
    projectRoot: process.cwd(),
  });
  const task = Object.values(record.tasks)[0] as { status: string; rowsOut?: number; bytes?: number; error?: unknown };
  if (record.status !== "succeeded") throw new Error(`run ${record.status}: ${JSON.stringify(task)}`);
  rows = task.rowsOut ?? 0;
  bytes = task.bytes ?? 0;
} else {
  const engine = await Engine.create({ threads: args.threads === undefined ? undefined : Number(args.threads) });
  const connector = createPostgresConnector(url, {
    wire: args.wire as "binary" | "csv" | undefined,
    codec: args.codec as ChunkCodec | undefined,
    compressionLevel: args["compression-level"] === undefined ? undefined : Number(args["compression-level"]),
    staging: args.staging as StagingMode | undefined,
    rowGroupRows: args["row-group-rows"] === undefined ? undefined : Number(args["row-group-rows"]),
    parquetLayout: args["page-version"] === undefined ? undefined : { pageVersion: args["page-version"] as "v1" | "v2", dictionary: args.dictionary! },
  });
  const out = join(args.lake!, "bronze", "bench", "orders");
  await mkdir(out, { recursive: true });
  const schema = await connector.discover({ kind: "table", table });
  for await (const chunk of connector.read({ schema, chunkRows, workDir: engine.workDir }, engine)) {
    await rename(chunk.file, join(out, `chunk-${chunks++}.parquet`));
    rows += chunk.rows;
    bytes += chunk.bytes;
  }
  await connector.close();
  threads = threadCpu();
  await engine.close();
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
clearInterval(sampler);
const peak = Math.max(sampledPeak, process.resourceUsage().maxRSS * 1024);
console.log(JSON.stringify({ rows, seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, peak_rss_mb: Math.round(peak / 2 ** 20), chunks, bytes, threads }));

/**
 * CPU seconds of this process's live threads by name (Linux /proc; connector mode reads it before DuckDB
 * closes): the main thread is Node's JavaScript, libuv's pool does file and pipe I/O, and DuckDB's
 * threads carry the name they were started from. Counted since the process started.
 */
function threadCpu(): Record<string, number> | undefined {
  try {
    const out: Record<string, number> = {};
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const key = tid === String(process.pid) ? "main (JavaScript)" : name;
      out[key] = Number(((out[key] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100).toFixed(2));
    }
    return out;
  } catch {
    return undefined;
  }
}
