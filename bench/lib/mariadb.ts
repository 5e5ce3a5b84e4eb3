// `npm run bench -- --source mariadb`: MariaDB → bronze Parquet through the code path of `mallard run`,
// against the limit of the source measured in the same run: the server's own client reading the same
// SELECT with --quick (row by row, as Mallard streams) into /dev/null. The table has the PostgreSQL
// benchmark's shape and values (bench/extract.ts), created in MALLARD_TEST_MYSQL_URL when absent.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";

const url = process.env.MALLARD_TEST_MYSQL_URL || "mysql://root@127.0.0.1:3306/test";
const database = "mallard_bench";

interface Extraction {
  rows: number;
  seconds: number;
  cpu_seconds: number;
  peak_rss_mb: number;
  chunks: number;
  bytes: number;
}

const log = (line: string) => console.log(line);
const fmt = (n: number, digits = 2) => n.toFixed(digits);
const summary = (values: number[]) => ({ best: Math.min(...values), spread: Math.max(...values) - Math.min(...values) });

/** Create the table when absent: the PostgreSQL benchmark's columns and values, in MariaDB types. */
async function ensureTable(table: string, rows: number): Promise<void> {
  const con = await mysql.createConnection({ uri: url });
  try {
    await con.query(`CREATE DATABASE IF NOT EXISTS ${database}`);
    const [found] = await con.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, [database, table]);
    if (Number((found as { n: number }[])[0].n) > 0) return;
    log(`creating ${database}.${table} (${rows.toLocaleString()} rows) …`);
    const started = performance.now();
    await con.query(`CREATE TABLE ${database}.${table}_loading (
      id bigint PRIMARY KEY, updated_at timestamp(6) NOT NULL DEFAULT '2024-01-01 00:00:00', customer_id int NOT NULL,
      amount decimal(12,2), status varchar(16) NOT NULL, note text) ENGINE=InnoDB`);
    // In slices of a million rows, so no single transaction grows huge on a small machine.
    for (let from = 1; from <= rows; from += 1_000_000) {
      const to = Math.min(rows, from + 999_999);
      await con.query(`INSERT INTO ${database}.${table}_loading
        SELECT seq, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL (seq DIV 7) SECOND + INTERVAL (seq % 1000) MICROSECOND,
               seq * 7919 % 100000, (seq * 104729 % 10000000) / 100.0,
               ELT(seq % 5 + 1, 'new', 'paid', 'shipped', 'delivered', 'returned'), LEFT(MD5(seq), 24)
        FROM seq_${from}_to_${to}`);
    }
    await con.query(`RENAME TABLE ${database}.${table}_loading TO ${database}.${table}`);
    log(`  created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await con.end();
  }
}

/**
 * The limit: `mariadb --quick -e 'SELECT …'` (the server's client, row by row) into /dev/null, run by a
 * shell whose `times` reports the client's CPU seconds too.
 */
async function clientLimit(table: string): Promise<{ seconds: number; cpuSeconds: number }> {
  const u = new URL(url);
  const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;
  const client = ["mariadb", "--quick", "--batch", "--skip-column-names", `--host=${u.hostname}`, `--port=${u.port || 3306}`, `--user=${decodeURIComponent(u.username)}`,
    ...(u.password ? [`--password=${decodeURIComponent(u.password)}`] : []), `--execute=SELECT * FROM ${database}.${table}`];
  const started = performance.now();
  const child = spawn("bash", ["-c", `${client.map(quote).join(" ")} > /dev/null && times`], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`mariadb client exited with ${code}`);
  // `times`: the shell's user and system time, then its children's (`0m1.234s 0m0.056s`).
  const children = out.trim().split("\n").at(-1) ?? "";
  const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { seconds, cpuSeconds };
}

async function extraction(table: string, chunkRows: number): Promise<Extraction> {
  const lake = await mkdtemp(join(tmpdir(), "mallard-bench-lake-"));
  try {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/lib/extract-run-mariadb.ts", "--url", url, "--table", `${database}.${table}`, "--lake", lake, "--chunk-rows", String(chunkRows)],
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

export async function benchMariadb(options: { rows: number; runs: number; chunkRows: number }): Promise<void> {
  const { rows, runs, chunkRows } = options;
  const table = `orders_${rows}`;
  await ensureTable(table, rows);
  log(`MariaDB table ${database}.${table}: ${rows.toLocaleString()} rows, 6 columns; ${runs} runs each, best and spread`);
  const limits: number[] = [];
  const limitCpu: number[] = [];
  const extractions: Extraction[] = [];
  // Alternate the two measurements so both see the same background load.
  for (let i = 0; i < runs; i++) {
    const limit = await clientLimit(table);
    limits.push(limit.seconds);
    limitCpu.push(limit.cpuSeconds);
    log(`  client limit   run ${i + 1}: ${fmt(limit.seconds)} s  cpu ${fmt(limit.cpuSeconds)} s (client; the server's is not counted)`);
    const run = await extraction(table, chunkRows);
    extractions.push(run);
    log(`  mallard run    run ${i + 1}: ${fmt(run.seconds)} s  ${Math.round(run.rows / run.seconds).toLocaleString()} rows/s  cpu ${fmt(run.cpu_seconds)} s  peak RSS ${run.peak_rss_mb} MB  ${(run.bytes / 2 ** 20).toFixed(0)} MB Parquet`);
    if (run.rows !== rows) throw new Error(`extracted ${run.rows} rows, expected ${rows}`);
  }
  const limit = summary(limits);
  const extract = summary(extractions.map((e) => e.seconds));
  const limitRate = rows / limit.best;
  const rate = rows / extract.best;
  const peak = Math.max(...extractions.map((e) => e.peak_rss_mb));
  const cpu = Math.min(...extractions.map((e) => e.cpu_seconds));
  log("");
  log(`mariadb --quick limit:  ${fmt(limit.best)} s best (spread ${fmt(limit.spread)}), ${Math.round(limitRate).toLocaleString()} rows/s`);
  log(`mallard run (bronze):   ${fmt(extract.best)} s best (spread ${fmt(extract.spread)}), ${Math.round(rate).toLocaleString()} rows/s, ` +
    `${fmt((100 * rate) / limitRate, 0)}% of the limit, peak RSS ${peak} MB`);
  log(`CPU seconds (a loaded machine stretches wall time, not these): mallard ${fmt(cpu)} s (DuckDB's Parquet writing included), client ${fmt(Math.min(...limitCpu))} s`);
  console.log(JSON.stringify({
    source: "mariadb",
    rows,
    seconds: Number(fmt(extract.best)),
    rows_per_s: Math.round(rate),
    limit_seconds: Number(fmt(limit.best)),
    limit_rows_per_s: Math.round(limitRate),
    ratio: Number(fmt(rate / limitRate, 3)),
    peak_rss_mb: peak,
    runs,
    seconds_spread: Number(fmt(extract.spread)),
    limit_spread: Number(fmt(limit.spread)),
    cpu_seconds: Number(fmt(cpu)),
    limit_client_cpu_seconds: Number(fmt(Math.min(...limitCpu))),
    parquet_mb: Math.round(extractions[0].bytes / 2 ** 20),
    chunk_rows: chunkRows,
  }));
}
