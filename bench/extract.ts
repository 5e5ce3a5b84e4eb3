// Extraction benchmark: PostgreSQL → bronze Parquet through the code path of `mallard run`, against the
// limit of the source itself (`COPY (SELECT …) TO STDOUT` CSV drained by a Node client into nothing).
// The last line printed is one JSON object, so runs can be compared by a script.
//
//   npm run bench                          # 5,000,000 rows, 3 runs of each measurement
//   npm run bench -- --rows 1000000 --runs 5
//   npm run bench -- --codecs              # also: connector alone with each Parquet codec
//   npm run bench -- --variants            # also: connector alone with the options of docs/extraction.md
//   npm run bench -- --source mariadb      # the same table in MariaDB, against `mariadb --quick` (bench/lib/mariadb.ts)
//
// The table (mallard_bench.orders_<rows>, 6 columns) is created in MALLARD_TEST_PG_URL when absent.
// The machine is shared: every figure is the best of --runs, with the spread (max - min) beside it. CPU
// time is steadier than wall time under load, so it is printed too: the PostgreSQL backend's during the
// limit's COPY (read from /proc, the server being local) and the extraction process's (Node and DuckDB).
// With two cores, the extraction's own (binary) COPY and the extraction process share them: at best the
// wall time is half their CPU, so `cpu_bound_ratio` = CSV backend CPU / ((binary backend CPU + extraction
// CPU) / 2), capped at 1, is the ceiling CPU allows (taking the limit's wall time as its backend's CPU).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { quoteIdent } from "../runtime/engine/sql.ts";
import { describeTarget } from "../runtime/sources/postgres/index.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "5000000" },
    runs: { type: "string", default: "3" },
    "chunk-rows": { type: "string", default: "1000000" },
    codecs: { type: "boolean", default: false },
    variants: { type: "boolean", default: false },
    source: { type: "string", default: "postgres" },
  },
});
const rows = Number(args.rows);
const runs = Math.max(1, Number(args.runs));
const url = process.env.MALLARD_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432/test";
const schema = "mallard_bench";
const table = `orders_${rows}`;
const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`;

interface Extraction {
  rows: number;
  seconds: number;
  cpu_seconds: number;
  peak_rss_mb: number;
  chunks: number;
  bytes: number;
}

const log = (line: string) => console.log(line);

async function withClient<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** Create the table when absent: ids in order, timestamps with microseconds, a numeric, two texts. */
async function ensureTable(): Promise<void> {
  await withClient(async (client) => {
    const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS yes`, [qualified]);
    if (exists.rows[0].yes) return;
    log(`creating ${schema}.${table} (${rows.toLocaleString()} rows) in ${describeTarget(url)} …`);
    const started = performance.now();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE ${qualified} (
      id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, customer_id integer NOT NULL,
      amount numeric(12,2), status text NOT NULL, note text)`);
    await client.query(
      `INSERT INTO ${qualified}
       SELECT g, timestamptz '2024-01-01 00:00:00+00' + (g / 7) * interval '1 second' + (g % 1000) * interval '1 microsecond',
              (g * 7919 % 100000)::integer, ((g * 104729 % 10000000) / 100.0)::numeric(12,2),
              (ARRAY['new','paid','shipped','delivered','returned'])[g % 5 + 1], left(md5(g::text), 24)
       FROM generate_series(1::bigint, $1::bigint) g`,
      [rows],
    );
    await client.query(`VACUUM ANALYZE ${qualified}`);
    log(`  created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
}

/** CPU seconds (user + system) of a local process, from /proc; undefined when it cannot be read. */
function processCpu(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 a second)
  } catch {
    return undefined;
  }
}

/**
 * The limit: the source's COPY of the same SELECT, drained by a Node client into nothing. CSV is the limit
 * the ratio is taken against (the issue's); the binary form, which bronze reads, is measured beside it.
 */
async function copyLimit(format: "csv" | "binary" = "csv"): Promise<{ seconds: number; bytes: number; backendCpu?: number }> {
  return withClient(async (client) => {
    const { rows: [{ pid }] } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const cpuBefore = processCpu(pid);
    const started = performance.now();
    let bytes = 0;
    const stream = client.query(copyTo(`COPY (SELECT * FROM ${qualified}) TO STDOUT (FORMAT ${format})`));
    for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = processCpu(pid);
    return { seconds, bytes, backendCpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
  });
}

async function extraction(extra: string[] = []): Promise<Extraction> {
  const lake = await mkdtemp(join(tmpdir(), "mallard-bench-lake-"));
  try {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/lib/extract-run.ts", "--url", url, "--table", `${schema}.${table}`, "--lake", lake, "--chunk-rows", args["chunk-rows"]!, ...extra],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_NO_WARNINGS: "1" } },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const last = out.trim().split("\n").at(-1) ?? "";
    if (code !== 0 || !last.startsWith("{")) throw new Error(`extraction failed (exit ${code}):\n${out}`);
    return JSON.parse(last) as Extraction;
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
}

function summary(values: number[]): { best: number; spread: number } {
  return { best: Math.min(...values), spread: Math.max(...values) - Math.min(...values) };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

if (args.source === "mariadb" || args.source === "mysql") {
  const { benchMariadb } = await import("./lib/mariadb.ts");
  await benchMariadb({ rows, runs, chunkRows: Number(args["chunk-rows"]) });
  process.exit(0);
}
if (args.source !== "postgres") throw new Error(`--source: expected postgres or mariadb, got ${args.source}`);

await ensureTable();
log(`table ${schema}.${table}: ${rows.toLocaleString()} rows, 6 columns; ${runs} runs each, best and spread`);

// Alternate the two measurements so both see the same background load.
const copies: { seconds: number; bytes: number; backendCpu?: number }[] = [];
const binaryCopies: { seconds: number; bytes: number; backendCpu?: number }[] = [];
const extractions: Extraction[] = [];
for (let i = 0; i < runs; i++) {
  const copy = await copyLimit();
  copies.push(copy);
  log(`  COPY limit     run ${i + 1}: ${fmt(copy.seconds)} s  (${(copy.bytes / 2 ** 20).toFixed(0)} MB of CSV)  backend CPU ${copy.backendCpu === undefined ? "n/a" : `${fmt(copy.backendCpu)} s`}`);
  const binary = await copyLimit("binary");
  binaryCopies.push(binary);
  log(`  COPY binary    run ${i + 1}: ${fmt(binary.seconds)} s  (${(binary.bytes / 2 ** 20).toFixed(0)} MB)  backend CPU ${binary.backendCpu === undefined ? "n/a" : `${fmt(binary.backendCpu)} s`}`);
  const run = await extraction();
  extractions.push(run);
  log(`  mallard run    run ${i + 1}: ${fmt(run.seconds)} s  CPU ${fmt(run.cpu_seconds)} s  ${Math.round(run.rows / run.seconds).toLocaleString()} rows/s  peak RSS ${run.peak_rss_mb} MB  ${(run.bytes / 2 ** 20).toFixed(0)} MB Parquet in ${run.chunks || Math.ceil(run.rows / Number(args["chunk-rows"]))} chunks`);
  if (run.rows !== rows) throw new Error(`extracted ${run.rows} rows, expected ${rows}`);
}

const codecs: Record<string, { seconds: number; spread: number; mb: number }> = {};
if (args.codecs) {
  for (const codec of ["uncompressed", "snappy", "lz4_raw", "zstd"]) {
    const times: number[] = [];
    let mb = 0;
    for (let i = 0; i < runs; i++) {
      const run = await extraction(["--mode", "connector", "--codec", codec]);
      times.push(run.seconds);
      mb = run.bytes / 2 ** 20;
    }
    const s = summary(times);
    codecs[codec] = { seconds: Number(fmt(s.best)), spread: Number(fmt(s.spread)), mb: Math.round(mb) };
    log(`  codec ${codec.padEnd(12)} ${fmt(s.best)} s (spread ${fmt(s.spread)})  ${Math.round(mb)} MB`);
  }
}

/** Connector-alone variants: the options docs/extraction.md records, each against bronze's defaults. */
const VARIANTS: [string, string[]][] = [
  ["bronze defaults (binary wire, zstd 1, v2 pages, no dictionaries, 122,880-row groups)", []],
  ["v1 pages with dictionaries (silver and gold's layout)", ["--page-version", "v1", "--dictionary"]],
  ["v2 pages with dictionaries", ["--page-version", "v2", "--dictionary"]],
  ["uncompressed", ["--codec", "uncompressed"]],
  ["snappy", ["--codec", "snappy"]],
  ["row groups of 1,000,000 rows", ["--row-group-rows", "1000000"]],
  ["row groups of 30,720 rows", ["--row-group-rows", "30720"]],
  ["one Parquet file per load (chunkRows = rows)", ["--chunk-rows", String(rows)]],
  ["CSV wire (DuckDB's CSV reader, DuckDB threads = cores)", ["--wire", "csv"]],
];
const variants: Record<string, { seconds: number; cpu_seconds: number; mb: number; peak_rss_mb: number }> = {};
if (args.variants) {
  for (const [name, extra] of VARIANTS) {
    const samples: Extraction[] = [];
    for (let i = 0; i < runs; i++) samples.push(await extraction(["--mode", "connector", ...extra]));
    const best = { seconds: Math.min(...samples.map((x) => x.seconds)), cpu_seconds: Math.min(...samples.map((x) => x.cpu_seconds)) };
    variants[name] = { seconds: Number(fmt(best.seconds)), cpu_seconds: Number(fmt(best.cpu_seconds)), mb: Math.round(samples[0].bytes / 2 ** 20), peak_rss_mb: Math.max(...samples.map((x) => x.peak_rss_mb)) };
    log(`  variant ${name.padEnd(70)} ${fmt(best.seconds)} s  CPU ${fmt(best.cpu_seconds)} s  ${variants[name].mb} MB  peak RSS ${variants[name].peak_rss_mb} MB`);
  }
}

const copy = summary(copies.map((c) => c.seconds));
const binaryCopy = summary(binaryCopies.map((c) => c.seconds));
const binaryBackendCpus = binaryCopies.flatMap((c) => (c.backendCpu === undefined ? [] : [c.backendCpu]));
const extract = summary(extractions.map((e) => e.seconds));
const copyRate = rows / copy.best;
const rate = rows / extract.best;
const peak = Math.max(...extractions.map((e) => e.peak_rss_mb));
const backendCpus = copies.flatMap((c) => (c.backendCpu === undefined ? [] : [c.backendCpu]));
const backendCpu = backendCpus.length ? Math.min(...backendCpus) : undefined;
const extractionCpu = Math.min(...extractions.map((e) => e.cpu_seconds));
// The extraction's COPY is binary: its backend and the extraction process share the two cores.
const extractionBackend = binaryBackendCpus.length ? Math.min(...binaryBackendCpus) : backendCpu;
const cpuBound = backendCpu === undefined || extractionBackend === undefined ? undefined : Math.min(1, backendCpu / ((extractionBackend + extractionCpu) / 2));
log("");
log(`load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} (1, 5, 15 min) at the end, on 2 cores shared with other engineers`);
if (backendCpu !== undefined) {
  log(`CPU: PostgreSQL backend ${fmt(backendCpu)} s for the CSV COPY, ${fmt(extractionBackend!)} s for the binary one the extraction reads; ` +
    `the extraction process ${fmt(extractionCpu)} s (Node + DuckDB); spread perfectly over 2 cores, the ceiling is ${fmt(100 * cpuBound!, 0)}% of the limit`);
}
log(`COPY … TO STDOUT limit: ${fmt(copy.best)} s best (spread ${fmt(copy.spread)}), ${Math.round(copyRate).toLocaleString()} rows/s` +
  ` (binary form: ${fmt(binaryCopy.best)} s, spread ${fmt(binaryCopy.spread)}${binaryBackendCpus.length ? `, backend CPU ${fmt(Math.min(...binaryBackendCpus))} s` : ""})`);
log(`mallard run (bronze):   ${fmt(extract.best)} s best (spread ${fmt(extract.spread)}), ${Math.round(rate).toLocaleString()} rows/s, ` +
  `${fmt((100 * rate) / copyRate, 0)}% of the limit (${fmt((100 * binaryCopy.best) / extract.best, 0)}% of the binary COPY), peak RSS ${peak} MB`);
console.log(JSON.stringify({
  rows,
  seconds: Number(fmt(extract.best)),
  rows_per_s: Math.round(rate),
  copy_limit_seconds: Number(fmt(copy.best)),
  copy_limit_rows_per_s: Math.round(copyRate),
  ratio: Number(fmt(rate / copyRate, 3)),
  peak_rss_mb: peak,
  runs,
  seconds_spread: Number(fmt(extract.spread)),
  copy_limit_spread: Number(fmt(copy.spread)),
  csv_mb: Math.round(copies[0].bytes / 2 ** 20),
  parquet_mb: Math.round(extractions[0].bytes / 2 ** 20),
  chunk_rows: Number(args["chunk-rows"]),
  ...(args.codecs ? { codecs } : {}),
  ...(args.variants ? { variants } : {}),
  binary_copy_seconds: Number(fmt(binaryCopy.best)),
  ratio_vs_binary_copy: Number(fmt(binaryCopy.best / extract.best, 3)),
  binary_backend_cpu_seconds: binaryBackendCpus.length ? Number(fmt(Math.min(...binaryBackendCpus))) : null,
  backend_cpu_seconds: backendCpu === undefined ? null : Number(fmt(backendCpu)),
  extraction_cpu_seconds: Number(fmt(extractionCpu)),
  cpu_bound_ratio: cpuBound === undefined ? null : Number(fmt(cpuBound, 3)),
  load_average: Number(loadavg()[0].toFixed(2)),
}));
