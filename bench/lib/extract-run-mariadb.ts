// One MariaDB extraction of the benchmark table, in its own process so its peak RSS is measured alone,
// through runLocal (the code path of `mallard run`): a one-stage pipeline with a full-load bronze table.
// Prints one JSON line: {rows, seconds, cpu_seconds, peak_rss_mb, chunks, bytes}.
//
//   node --import tsx bench/lib/extract-run-mariadb.ts --url <mysql url> --table <db.table> --lake <dir> [--chunk-rows N]

import { parseArgs } from "node:util";
import { bronze, pipeline, source } from "../../runtime/declare/index.ts";
import { LocalLake } from "../../runtime/lake/local-lake.ts";
import { runLocal } from "../../runtime/orchestration/local-runner.ts";
import { SecretChain } from "../../runtime/secrets/secrets.ts";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    table: { type: "string" },
    lake: { type: "string" },
    "chunk-rows": { type: "string", default: "1000000" },
  },
});
const chunkRows = Number(args["chunk-rows"]);

// The clock starts after the imports, including those `mallard run` makes lazily on the way to the
// extraction (the stage's run code, the connector), as in extract-run.ts.
await import("../../runtime/stages/bronze-table/run.ts");
await import("../../runtime/sources/mysql/index.ts");

let sampledPeak = 0;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 100);
const started = performance.now();
const cpuStart = process.cpuUsage();

const db = source.mariadb("bench", { connection: args.url!, chunkRows });
const stage = bronze.table(db, { table: args.table!, name: "orders", primaryKey: "id" });
const record = await runLocal({
  pipeline: pipeline("bench", { schedule: "0 0 * * * *", stages: [stage] }),
  lake: new LocalLake(args.lake!),
  secrets: new SecretChain([]),
  projectRoot: process.cwd(),
});
const task = Object.values(record.tasks)[0] as { status: string; rowsOut?: number; bytes?: number };
if (record.status !== "succeeded") throw new Error(`run ${record.status}: ${JSON.stringify(task)}`);

const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
clearInterval(sampler);
const peak = Math.max(sampledPeak, process.resourceUsage().maxRSS * 1024);
console.log(JSON.stringify({
  rows: task.rowsOut ?? 0, seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, peak_rss_mb: Math.round(peak / 2 ** 20),
  chunks: Math.ceil((task.rowsOut ?? 0) / chunkRows), bytes: task.bytes ?? 0,
}));
